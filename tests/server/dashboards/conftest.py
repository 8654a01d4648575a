from tests.server.booking_fixtures import server, token_for  # noqa: F401
