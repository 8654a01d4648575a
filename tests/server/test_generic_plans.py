"""Statements run on every booking keep a good plan when PostgreSQL plans them once for any values.

asyncpg prepares each statement, and PostgreSQL (plan_cache_mode ``auto``, its default) settles on one generic
plan per statement, made without the values and at the tables' size of the moment. Made on a nearly empty table,
a read by an array of ids of unknown length is a sequential scan, and it stays one as the table grows, until
ANALYZE replans it. Bound to one key, the same read uses the primary key whatever the size. Here the tables are
as a fresh database has them: nearly empty, never analyzed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from server.bus import _CLAIM_PENDING
from server.domains.common.dialect import bound_each
from server.domains.common.lookup import _columns_by_id, _columns_by_ids
from server.domains.schedule.services import _schedule_of_days
from server.domains.tasks.dispatch import _standings_of_guides
from server.domains.tasks.models import Task
from server.outbox import OUTBOX
from server.prepared import _writes_together


async def _generic_plan(db, statement: sa.ClauseElement) -> str:
    """The plan PostgreSQL keeps for ``statement`` once it plans it for any values (JSON text). A generic plan
    does not depend on the values, so each is given as NULL."""
    compiled = statement.compile(dialect=db.engine.dialect)
    nulls = ", ".join("NULL" for _name in compiled.positiontup or ())
    async with db.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        async with driver.transaction():
            await driver.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await driver.execute(f"PREPARE generic_check AS {compiled.string}")
            plan = await driver.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE generic_check({nulls})")
            await driver.execute("DEALLOCATE generic_check")
    return plan if isinstance(plan, str) else json.dumps(plan)  # the engine's connections decode JSON


@pytest.fixture
def postgresql_only(db):
    if db.is_sqlite:
        pytest.skip("PostgreSQL: SQLite plans each statement as it runs it")


async def test_a_lookup_of_one_row_by_id_uses_the_primary_key(db, postgresql_only):
    plan = await _generic_plan(db, _columns_by_id(Task))
    assert '"Index Name": "pk_task"' in plan and "Seq Scan" not in plan


async def test_an_update_of_one_row_written_at_commit_uses_the_primary_key(db, postgresql_only):
    statement = _writes_together((), ((OUTBOX, ("id", "published_at"), True),))
    plan = await _generic_plan(db, statement)
    assert '"Index Name": "pk_outbox"' in plan and "Seq Scan" not in plan


async def test_the_schedule_of_one_store_reads_that_stores_guides_not_every_guide(db, postgresql_only):
    plan = await _generic_plan(db, _schedule_of_days("postgresql", True))
    assert "ix_shift_pattern_store_weekday" in plan and "Seq Scan" not in plan
    assert "ix_staff_user_role" not in plan  # the stores as an array: every guide, by role, then joined


async def test_the_relays_claim_reads_the_unpublished_rows_by_index(db, postgresql_only):
    plan = await _generic_plan(db, _CLAIM_PENDING)
    assert "Seq Scan" not in plan


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(lambda: _columns_by_ids(Task, "postgresql"), id="lookup by an array of ids"),
        pytest.param(lambda: _writes_together((), ((OUTBOX, ("id", "published_at"), False),)), id="update from arrays"),
        pytest.param(lambda: _schedule_of_days("postgresql", False), id="schedule of an array of stores"),
    ],
)
async def test_the_array_shapes_kept_for_several_values_plan_badly_when_planned_once(db, postgresql_only, shape):
    """Why one value is bound as one value above: the same reads by arrays, planned once on these small
    tables, scan a whole table or read every guide (their plans are remade only by ANALYZE)."""
    plan = await _generic_plan(db, shape())
    assert "Seq Scan" in plan or "ix_staff_user_role" in plan


async def test_dispatch_keeps_one_plan_for_its_guides_bound_one_by_one(db, postgresql_only):
    """Bound as ``= ANY(:ids)``, PostgreSQL assumed ten guides and planned the read at every booking; bound one
    by one it knows how many, and settles on one plan after its first five executions."""
    statement = _standings_of_guides(2, 1)
    compiled = statement.compile(dialect=db.engine.dialect)
    at = datetime(2026, 12, 7, 10, tzinfo=UTC)
    given = {"service_id": 1, "slot_start": at, "day_start": at, "day_end": at, **bound_each("ids", [1, 2])}
    values = compiled.construct_params({**given, **bound_each("categories", [3])})
    async with db.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        prepared = await driver.prepare(compiled.string)
        for _ in range(8):
            await prepared.fetch(*(values[name] for name in compiled.positiontup or ()))
        generic, custom = await driver.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1", compiled.string
        )
    assert generic >= 3 and custom <= 5
