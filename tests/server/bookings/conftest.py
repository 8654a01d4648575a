"""Fixtures of the booking tests."""

from tests.server.booking_fixtures import token_for, two_guides  # noqa: F401
