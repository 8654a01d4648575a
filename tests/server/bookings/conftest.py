"""Fixtures of the booking tests."""

from tests.server.booking_fixtures import server, token_for, two_guides  # noqa: F401
