"""Fixtures of the share-loop tests."""

from tests.server.booking_fixtures import token_for  # noqa: F401
