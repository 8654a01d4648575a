"""At most ``http_concurrency`` GraphQL operations run at once per process; the others wait, none fails."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.routing import Route

from server.api.http import GraphQLHTTPEndpoint


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
