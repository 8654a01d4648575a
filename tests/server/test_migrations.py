"""Models and migrations agree, and the migrations run both ways, on both databases."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from server import migrate
from server.domains.identity.models import Person
from server.domains.stores.models import Store
from server.models import metadata

WHEN = datetime(2026, 11, 27, 8, tzinfo=UTC)
DONE_AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


async def _differences(url: str) -> list:
    engine = create_async_engine(url)

    def compare(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with engine.connect() as connection:
        diff = await connection.run_sync(compare)
    await engine.dispose()
    return diff


async def _revisions(url: str) -> frozenset[str]:
    engine = create_async_engine(url)
    try:
        return await migrate.database_revisions(engine)
    finally:
        await engine.dispose()


def store_row(store_id: int, name: str = "店"):
    """An INSERT of a Shanghai store as the migrations under test know the table."""
    return sa.insert(Store.__table__).values(
        id=store_id,
        code=f"S00{store_id}",
        name=name,
        city="上海",
        address="1 号",
        latitude=31.2,
        longitude=121.4,
        timezone="Asia/Shanghai",
        opening_hours=[],
        active=True,
        created_at=WHEN,
        updated_at=WHEN,
    )


async def test_upgrade_head_matches_models(fresh_url):
    await asyncio.to_thread(migrate.upgrade, fresh_url)
    assert await _differences(fresh_url) == []
    assert await _revisions(fresh_url) == migrate.head_revisions()


async def test_downgrade_base_then_upgrade_head(fresh_url):
    await asyncio.to_thread(migrate.upgrade, fresh_url)
    await asyncio.to_thread(migrate.downgrade, fresh_url, "base")
    assert await _revisions(fresh_url) == frozenset()
    await asyncio.to_thread(migrate.upgrade, fresh_url)
    assert await _differences(fresh_url) == []


async def test_0013_marks_reminded_bookings_and_completes_finished_receptions(fresh_url):
    """Reminders queued before 0013 were keyed booking:<id>:remind: nobody is reminded twice after it.
    Bookings whose reception was DONE before it become COMPLETED."""
    await asyncio.to_thread(migrate.upgrade, fresh_url, "0012")
    engine = create_async_engine(fresh_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(Person.__table__).values(id=1, created_at=WHEN))
            await connection.execute(store_row(1, name="上海店"))
            for booking_id, status, task in (
                (1, "CONFIRMED", None),
                (2, "CONFIRMED", None),
                (3, "CHECKED_IN", "DONE"),
                (4, "CHECKED_IN", "IN_PROGRESS"),
            ):
                await connection.execute(
                    sa.text(
                        "INSERT INTO booking (id, person_id, store_id, slot_start, slot_end, status, source, note, "
                        "qr_nonce, created_by, created_at, updated_at) VALUES (:id, 1, 1, :at, :at, :status, "
                        "'DIRECT', '', :nonce, 'customer:1', :at, :at)"
                    ),
                    {"id": booking_id, "at": WHEN, "status": status, "nonce": f"n{booking_id}"},
                )
                if task:
                    await connection.execute(
                        sa.text(
                            "INSERT INTO task (kind, store_id, booking_id, person_id, assignment_reason, status, "
                            "priority, customer_type, due_at, escalations, created_at, updated_at) VALUES "
                            "('RECEPTION', 1, :b, 1, '', :status, 'NORMAL', 'WALK_IN', :at, 0, :at, :done)"
                        ),
                        {"b": booking_id, "status": task, "at": WHEN, "done": DONE_AT},
                    )
            await connection.execute(
                sa.text(
                    "INSERT INTO outbound_message (person_id, kind, dedupe_key, params, status, attempts, created_at) "
                    "VALUES (1, 'BOOKING_REMINDER', 'booking:1:remind', '{}', 'SENT', 1, :at)"
                ),
                {"at": WHEN},
            )
        await asyncio.to_thread(migrate.upgrade, fresh_url)
        async with engine.connect() as connection:
            bookings = (
                await connection.execute(
                    sa.text(
                        "SELECT id, customer_reminded_at IS NOT NULL, status, completed_at FROM booking ORDER BY id"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(row[:3]) for row in bookings] == [
        (1, True, "CONFIRMED"),
        (2, False, "CONFIRMED"),
        (3, False, "COMPLETED"),
        (4, False, "CHECKED_IN"),
    ]
    completed_at = bookings[2][3]
    assert (completed_at if isinstance(completed_at, datetime) else datetime.fromisoformat(completed_at)).replace(
        tzinfo=UTC
    ) == DONE_AT and bookings[3][3] is None


async def test_0018_gives_confirmed_bookings_distinct_codes_per_store(fresh_url):
    """Bookings CONFIRMED before 0018 can be checked in by code too; the others need none."""
    await asyncio.to_thread(migrate.upgrade, fresh_url, "0017")
    engine = create_async_engine(fresh_url)
    statuses = ["CONFIRMED"] * 30 + ["CHECKED_IN", "CANCELLED", "NO_SHOW"]
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(Person.__table__).values(id=1, created_at=WHEN))
            for store_id in (1, 2):
                await connection.execute(store_row(store_id))
            for booking_id, status in enumerate(statuses * 2, start=1):
                await connection.execute(
                    sa.text(
                        "INSERT INTO booking (id, person_id, store_id, slot_start, slot_end, status, source, note, "
                        "qr_nonce, created_by, created_at, updated_at) VALUES (:id, 1, :store, :at, :at, :status, "
                        "'DIRECT', '', :nonce, 'customer:1', :at, :at)"
                    ),
                    {
                        "id": booking_id,
                        "store": 1 + (booking_id - 1) // len(statuses),
                        "at": WHEN,
                        "status": status,
                        "nonce": f"n{booking_id}",
                    },
                )
        await asyncio.to_thread(migrate.upgrade, fresh_url)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.text(
                        "SELECT b.store_id, b.status, c.code, c.store_id FROM booking b "
                        "LEFT JOIN booking_check_in_code c ON c.booking_id = b.id ORDER BY b.id"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    for store_id in (1, 2):
        mine = [row for row in rows if row[0] == store_id]
        codes = [code for _store, status, code, _code_store in mine if status == "CONFIRMED"]
        assert len(codes) == len(set(codes)) == 30 and all(len(c) == 6 and c.isdigit() for c in codes)
        assert all(code_store == store_id for _store, status, _code, code_store in mine if status == "CONFIRMED")
        assert [code for _store, status, code, _ in mine if status != "CONFIRMED"] == [None, None, None]


async def test_0019_gives_every_product_one_sku_with_its_code_and_price(fresh_url):
    """Products stored before SKUs existed can still be stocked and sold."""
    await asyncio.to_thread(migrate.upgrade, fresh_url, "0018")
    engine = create_async_engine(fresh_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("INSERT INTO product_category (id, code, name, created_at) VALUES (1, 'SKIN', '护肤', :at)"),
                {"at": WHEN},
            )
            for product_id, (sku, price, active) in enumerate([("SERUM-01", 89000, True), ("OLD-1", 100, False)], 1):
                await connection.execute(
                    sa.text(
                        "INSERT INTO product (id, sku, name, description, category_id, price_amount, currency, "
                        "active, created_at, updated_at) VALUES (:id, :sku, '品', '', 1, :price, 'CNY', :active, "
                        ":at, :at)"
                    ),
                    {"id": product_id, "sku": sku, "price": price, "active": active, "at": WHEN},
                )
        await asyncio.to_thread(migrate.upgrade, fresh_url)
        async with engine.connect() as connection:
            skus = (
                await connection.execute(
                    sa.text(
                        "SELECT product_id, code, price_amount, currency, active, barcode FROM product_sku ORDER BY id"
                    )
                )
            ).all()
            images = (await connection.execute(sa.text("SELECT images FROM product ORDER BY id"))).scalars().all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in skus] == [
        (1, "SERUM-01", 89000, "CNY", True, None),
        (2, "OLD-1", 100, "CNY", False, None),
    ]
    assert [i if isinstance(i, list) else json.loads(i) for i in images] == [[], []]


async def _invalid_indexes(url: str) -> list[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                sa.text(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid"
                )
            )
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


async def test_replicas_starting_at_once_migrate_in_turn(fresh_url):
    """Every replica's `irs serve` migrates at start. They take turns, and one waiting for its turn must
    not hold a snapshot: 0027 builds its indexes CONCURRENTLY, which waits for every older snapshot (a
    replica waiting inside pg_advisory_lock held one: the build and the wait deadlocked)."""
    if not fresh_url.startswith("postgresql"):
        pytest.skip("SQLite: one process opens the file; there are no replicas")
    await asyncio.to_thread(migrate.upgrade, fresh_url, "0026")
    replicas = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "db", "upgrade", env={**os.environ, "IRS_DATABASE_URL": fresh_url}
        )
        for _ in range(3)
    ]
    assert [await replica.wait() for replica in replicas] == [0, 0, 0]
    assert await _revisions(fresh_url) == migrate.head_revisions()
    assert await _differences(fresh_url) == []
    assert await _invalid_indexes(fresh_url) == []


async def test_an_index_build_that_failed_half_way_is_built_again(fresh_url):
    """A CONCURRENTLY build that fails (a cancelled deploy, a timeout) leaves an INVALID index behind: the
    next run drops and builds it again rather than taking the leftover for the index."""
    if not fresh_url.startswith("postgresql"):
        pytest.skip("SQLite builds its indexes in the migration's transaction")
    await asyncio.to_thread(migrate.upgrade, fresh_url)
    await asyncio.to_thread(migrate.downgrade, fresh_url, "0026")
    engine = create_async_engine(fresh_url)
    try:
        async with engine.begin() as connection:  # as a build that stopped half way leaves it
            await connection.execute(sa.text("CREATE INDEX ix_task_assignee_due ON task (assignee_id, due_at)"))
            await connection.execute(
                sa.text("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'ix_task_assignee_due'::regclass")
            )
    finally:
        await engine.dispose()
    assert await _invalid_indexes(fresh_url) == ["ix_task_assignee_due"]
    await asyncio.to_thread(migrate.upgrade, fresh_url)
    assert await _invalid_indexes(fresh_url) == []
    assert await _differences(fresh_url) == []
