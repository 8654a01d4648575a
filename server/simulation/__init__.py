"""``irs simulate livestream``: the demo brand's livestream day, driven through the public GraphQL API."""
