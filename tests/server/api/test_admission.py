"""At most ``http_concurrency`` GraphQL operations run at once per process; the others wait, none fails.
Staff have a lane of their own (``http_staff_concurrency``): customers queueing never hold them up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.routing import Route

from server.api.http import GraphQLHTTPEndpoint
from tests.server.bookings.helpers import customer


class GatedSchema:
    """The app's schema, holding every operation it is given until the test opens the gate."""

    def __init__(self, schema) -> None:
        self.schema, self.gate = schema, asyncio.Event()
        self.running = self.most = 0

    async def execute(self, *args, **kwargs):
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.gate.wait()
            return await self.schema.execute(*args, **kwargs)
        finally:
            self.running -= 1


def graphql_endpoint(app) -> GraphQLHTTPEndpoint:
    [route] = [r for r in app.routes if isinstance(r, Route) and r.path == "/graphql"]
    return route.endpoint.__self__


async def until(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Wait for the condition, checking it between turns of the event loop; fail after ``timeout`` s."""
    for _ in range(int(timeout / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"not reached within {timeout} s")


async def test_operations_beyond_the_limit_wait_their_turn(app_with_url, migrated_url, monkeypatch):
    api = await app_with_url(migrated_url, http_concurrency=3)
    endpoint = graphql_endpoint(api.app)
    gated = GatedSchema(endpoint.schema)
    monkeypatch.setattr(endpoint, "schema", gated)

    requests = asyncio.gather(*(api.client.post("/graphql", json={"query": "{ __typename }"}) for _ in range(12)))
    await until(lambda: gated.running == 3 and endpoint.waiting == 9)  # every request in flight, none answered
    assert gated.running == 3
    gated.gate.set()
    responses = await asyncio.wait_for(requests, timeout=30)

    assert [r.status_code for r in responses] == [200] * 12
    assert all(r.json()["data"] == {"__typename": "Query"} for r in responses)
    assert gated.most == 3 and endpoint.waiting == 0


class CustomersHeld(GatedSchema):
    """Holds the operations of everyone but staff until the test opens the gate."""

    async def execute(self, *args, **kwargs):
        actor = kwargs["context_value"].actor
        if actor is not None and actor.is_staff:
            return await self.schema.execute(*args, **kwargs)
        return await super().execute(*args, **kwargs)


async def test_a_surge_of_customers_never_queues_a_guides_operation(api, world, token_for, monkeypatch):
    guide = await token_for("sh.guide")
    customer_token, _ = await customer(api)
    endpoint = graphql_endpoint(api.app)
    held = CustomersHeld(endpoint.schema)
    monkeypatch.setattr(endpoint, "schema", held)
    surge = [
        api.client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        for headers in [{}, {"authorization": f"Bearer {customer_token}"}] * 10
    ]
    customers = asyncio.gather(*surge)
    await until(lambda: held.running == 8 and endpoint.waiting == 12)  # the public lane is full, 12 queue

    answered = await asyncio.wait_for(api.data("{ me { displayName } }", {}, guide), timeout=10)
    assert answered["me"]["displayName"] and endpoint.waiting == 12 and not customers.done()
    held.gate.set()
    responses = await asyncio.wait_for(customers, timeout=30)
    assert [r.status_code for r in responses] == [200] * 20 and endpoint.staff_lane.waiting == 0


class StaffHeld(GatedSchema):
    """Holds staff operations until the test opens the gate; records the order operations start in."""

    def __init__(self, schema) -> None:
        super().__init__(schema)
        self.started: list[str] = []

    async def execute(self, *args, **kwargs):
        actor = kwargs["context_value"].actor
        if actor is not None and actor.is_staff:
            self.started.append("staff")
            return await super().execute(*args, **kwargs)
        self.started.append("customer")
        return await self.schema.execute(*args, **kwargs)


async def test_customers_wait_while_staff_operations_queue(api, world, token_for, monkeypatch):
    """Guides catching up all at once after a restart: the customers' lane has room, but starts nothing until
    the staff queue has drained (they share the CPU)."""
    guide = await token_for("sh.guide")
    customer_token, _ = await customer(api)
    endpoint = graphql_endpoint(api.app)
    monkeypatch.setattr(endpoint.staff_lane, "semaphore", asyncio.Semaphore(1))
    monkeypatch.setattr(endpoint.public_lane, "stalled_after", 60)  # the held staff count as moving
    held = StaffHeld(endpoint.schema)
    monkeypatch.setattr(endpoint, "schema", held)

    def calls(token: str, count: int):
        headers = {"authorization": f"Bearer {token}"}
        return [api.client.post("/graphql", json={"query": "{ __typename }"}, headers=headers) for _ in range(count)]

    staff = asyncio.gather(*calls(guide, 3))
    await until(lambda: held.running == 1 and endpoint.staff_lane.waiting == 2)
    customers = asyncio.gather(*calls(customer_token, 2))
    await until(lambda: endpoint.waiting == 2)
    await asyncio.sleep(0.05)
    assert held.started == ["staff"] and not customers.done()
    held.gate.set()
    responses = await asyncio.wait_for(asyncio.gather(staff, customers), timeout=30)
    assert held.started == ["staff"] * 3 + ["customer"] * 2
    assert [r.status_code for each in responses for r in each] == [200] * 5
    assert endpoint.waiting == 0 and endpoint.staff_lane.waiting == 0


async def test_customers_do_not_yield_to_stalled_staff(api, world, token_for, monkeypatch):
    """Staff operations stuck (on locks, say) with more queued behind them: customers start all the same
    once no staff turn has begun or ended for ``stalled_after`` seconds."""
    guide = await token_for("sh.guide")
    customer_token, _ = await customer(api)
    endpoint = graphql_endpoint(api.app)
    monkeypatch.setattr(endpoint.staff_lane, "semaphore", asyncio.Semaphore(1))
    monkeypatch.setattr(endpoint.public_lane, "stalled_after", 0.2)
    held = StaffHeld(endpoint.schema)
    monkeypatch.setattr(endpoint, "schema", held)
    staff_headers = {"authorization": f"Bearer {guide}"}
    staff = asyncio.gather(
        *(api.client.post("/graphql", json={"query": "{ __typename }"}, headers=staff_headers) for _ in range(2))
    )
    await until(lambda: held.running == 1 and endpoint.staff_lane.waiting == 1)
    answered = await asyncio.wait_for(api.data("{ __typename }", {}, customer_token), timeout=10)
    assert answered == {"__typename": "Query"} and endpoint.staff_lane.waiting == 1  # staff still stuck
    held.gate.set()
    assert [r.status_code for r in await asyncio.wait_for(staff, timeout=30)] == [200, 200]
