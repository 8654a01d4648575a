"""Every table model, for tests that check a rule of common.rows against each of them."""

from __future__ import annotations

import pytest
from sqlmodel import SQLModel

import server.models  # noqa: F401  (every table model registered)

TABLE_MODELS = sorted(
    (mapper.class_ for mapper in SQLModel._sa_registry.mappers if issubclass(mapper.class_, SQLModel)),
    key=lambda model: model.__name__,
)
each_table_model = pytest.mark.parametrize("model", TABLE_MODELS, ids=lambda model: model.__name__)
