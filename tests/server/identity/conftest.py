"""Fixtures shared by the OneID API tests."""

import pytest

from .test_api_ingest import create_source


@pytest.fixture
async def admin(token_for) -> str:
    return await token_for("admin")


@pytest.fixture
async def key(api, admin) -> str:
    """The API key of a fresh mini-program source."""
    return (await create_source(api, admin))["apiKey"]
