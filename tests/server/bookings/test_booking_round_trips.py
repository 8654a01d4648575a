"""A booking's round trips to the database, pinned: the hot path of a livestream surge must not creep.

The count is the statements one `bookingCreate` runs, its answer included (store, products), without the outbox
relay's (it publishes what the booking announced, beside it) and without BEGIN (SQLite's are statements of their
own, the relay's among them; PostgreSQL's are not seen here). When a change adds a statement on purpose, update the
figure here and say why in the commit.

Counting by engine event sends every statement SQLAlchemy's way (server.prepared steps aside for an engine that
watches its statements); the count is the same either way, and the last test pins which ones asyncpg runs itself.
"""

from __future__ import annotations

import pytest

from tests.server.assertions import SessionWay, Statements, relay_statement

from .changes_helpers import create_livestream
from .helpers import BOOK, booking_input, customer, give_shifts, next_local

MONDAY = 0
ROUND_TRIPS = {"postgresql": 10, "sqlite": 14}
FROM_LIVESTREAM = {"postgresql": 8, "sqlite": 13}
A_KEY = {"postgresql": 1, "sqlite": 2}  # claimed, and its result written (with the rows written at commit)


def _booking_statements(statement: str) -> bool:
    """Every statement but BEGIN and the outbox relay's reads and marks."""
    return not relay_statement(statement) and not statement.lstrip().upper().startswith("BEGIN")


async def test_a_livestream_booking_takes_a_fixed_number_of_round_trips(api, db, world, clock, token_for):
    """The surge's booking: from a livestream, so it also lands on her timeline."""
    await give_shifts(db, world)
    livestream = await create_livestream(api.data, world, await token_for("ops"), clock)
    token, _ = await customer(api)
    booking = booking_input(world, next_local(clock, MONDAY, 15), livestreamId=livestream)
    with Statements(api, _booking_statements) as statements:
        payload = await api.data(BOOK, {"input": booking}, token)
    assert payload["bookingCreate"]["errors"] == []
    listing = "\n".join(statements.seen)
    assert len(statements.seen) == FROM_LIVESTREAM[db.engine.dialect.name], listing
    answer_reads = [each for each in statements.seen if each.startswith(("SELECT store.", "SELECT livestream."))]
    assert len(answer_reads) == 1, listing  # both in one read, by the checks: the answer finds them in the session


@pytest.mark.parametrize("signed_in_before", [False, True])
async def test_a_booking_takes_a_fixed_number_of_round_trips(api, db, world, clock, signed_in_before):
    await give_shifts(db, world)
    token, _ = await customer(api)
    if signed_in_before:  # a customer is confirmed at every operation: the count is the same
        await api.data("{ me { displayName } }", token=token)
    with Statements(api, _booking_statements) as statements:
        payload = await api.data(BOOK, {"input": booking_input(world, next_local(clock, MONDAY, 15))}, token)
    assert payload["bookingCreate"]["errors"] == []
    listing = "\n".join(statements.seen)
    assert len(statements.seen) == ROUND_TRIPS[db.engine.dialect.name], listing
    assert sum("FROM person " in each for each in statements.seen) == 1, listing  # her row is read once


async def test_an_idempotency_key_costs_one_round_trip_on_postgresql(api, db, world, clock):
    """The surge's customers all send a key: it is claimed (one INSERT) and given the booking (an UPDATE in the
    statement that writes the rows written at commit, server.at_commit; one of its own on SQLite)."""
    await give_shifts(db, world)
    token, _ = await customer(api)
    booking = booking_input(world, next_local(clock, MONDAY, 15), idempotencyKey="tap-1")
    with Statements(api, _booking_statements) as statements:
        payload = await api.data(BOOK, {"input": booking}, token)
    assert payload["bookingCreate"]["errors"] == []
    listing = "\n".join(statements.seen)
    assert len(statements.seen) == ROUND_TRIPS[db.engine.dialect.name] + A_KEY[db.engine.dialect.name], listing
    assert not any(each.upper().startswith(("SAVEPOINT", "RELEASE")) for each in statements.seen), listing


async def test_the_surge_booking_s_own_statements_skip_sqlalchemy_s_cursor(api, db, world, clock, token_for):
    """On PostgreSQL every statement of the booking is built once and run by asyncpg itself (server.prepared):
    a third of their client CPU. A statement that falls back (an ORM read, a list expanded when it runs, a
    row flushed by the session) shows here."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL: on SQLite every statement takes the session's way")
    await give_shifts(db, world)
    livestream = await create_livestream(api.data, world, await token_for("ops"), clock)
    token, _ = await customer(api)
    booking = booking_input(world, next_local(clock, MONDAY, 15), livestreamId=livestream, idempotencyKey="tap-1")
    with SessionWay(api.app.state.runtime.db.engine, _booking_statements) as session_way:
        payload = await api.data(BOOK, {"input": booking}, token)
    assert payload["bookingCreate"]["errors"] == []
    listing = "\n".join(session_way.seen)
    # None: her account, the store with the livestream (the session's rows: the answer shows them) and the
    # outbox's rows (written before the commit) are read and written by asyncpg too, and so is BEGIN.
    assert session_way.seen == [], listing
