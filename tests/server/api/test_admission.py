"""At most ``http_concurrency`` GraphQL operations run at once per process; the others wait, none fails."""

from __future__ import annotations

import asyncio

from server.api.http import GraphQLHTTPEndpoint


async def test_operations_beyond_the_limit_wait_their_turn(app_with_url, migrated_url, monkeypatch):
    running, most = 0, 0
    execute = GraphQLHTTPEndpoint._execute

    async def observed(self, request, params, media_type):
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await asyncio.sleep(0.02)  # long enough for every request to be in flight
            return await execute(self, request, params, media_type)
        finally:
            running -= 1

    monkeypatch.setattr(GraphQLHTTPEndpoint, "_execute", observed)
    api = await app_with_url(migrated_url, http_concurrency=3)

    responses = await asyncio.gather(
        *(api.client.post("/graphql", json={"query": "{ __typename }"}) for _ in range(12))
    )

    assert [r.status_code for r in responses] == [200] * 12
    assert all(r.json()["data"] == {"__typename": "Query"} for r in responses)
    assert most == 3
