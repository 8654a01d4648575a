"""The guide app (Kivy): sign-in, live task inbox, reception with SOP and check-in, customer 360°.

``api`` talks GraphQL, ``presenters`` hold each screen's state and logic in plain
Python, ``screens`` draw them with Kivy. Run with ``make app`` or ``python -m guide_app``.
"""
