"""Fixtures of the schedule tests."""

from tests.server.booking_fixtures import token_for, two_guides  # noqa: F401
