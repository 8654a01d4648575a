"""Rules that must hold when requests race (each request has its own transaction): one status transition wins."""

from __future__ import annotations

import asyncio

LIVESTREAM_CREATE = """mutation($input: LivestreamCreateInput!) {
  livestreamCreate(input: $input) { livestream { id } errors { code } } }"""
LIVESTREAM_STATUS = """mutation($id: ID!, $status: LivestreamStatus!) {
  livestreamUpdate(input: {id: $id, status: $status}) { livestream { status } errors { code } } }"""


async def test_racing_status_moves_apply_one_transition(api, world, token_for):
    token = await token_for("ops")
    created = await api.data(
        LIVESTREAM_CREATE,
        {
            "input": {
                "title": "Race",
                "hostName": "Host",
                "teamId": world.gid("Team", "team"),
                "channel": "DOUYIN",
                "scheduledStart": "2026-12-01T12:00:00Z",
                "scheduledEnd": "2026-12-01T14:00:00Z",
            }
        },
        token=token,
    )
    livestream_id = created["livestreamCreate"]["livestream"]["id"]
    moves = ["LIVE", "CANCELLED"] * 4
    results = await asyncio.gather(
        *(api.data(LIVESTREAM_STATUS, {"id": livestream_id, "status": s}, token=token) for s in moves)
    )
    applied = {s for s, r in zip(moves, results, strict=False) if r["livestreamUpdate"]["errors"] == []}
    assert len(applied) == 1
