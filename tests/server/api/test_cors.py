"""Browsers on other origins: CORS on HTTP and the Origin check of the WebSocket handshake (IRS_CORS_ORIGINS)."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from server.settings import DEVELOPMENT_ORIGINS, Settings
from tests.live_server import LiveServer

DEV_ORIGIN, STRANGER = "http://localhost:5173", "https://evil.example"
H5 = "https://h5.brand.example"
CLIENT_HEADERS = "authorization, content-type, x-request-id, x-source-key"


async def preflight(api, origin: str):
    return await api.client.options(
        "/graphql",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": CLIENT_HEADERS,
        },
    )


# settings --------------------------------------------------------------------------------------


def test_development_allows_the_local_dev_ports_and_production_none():
    assert Settings().cors_origins == list(DEVELOPMENT_ORIGINS)
    assert {"http://localhost:3000", "http://127.0.0.1:5173", "http://localhost:8080"} <= set(DEVELOPMENT_ORIGINS)
    assert Settings(env="production").cors_origins == []


def test_origins_come_from_the_environment_comma_separated_or_as_json(monkeypatch):
    monkeypatch.setenv("IRS_CORS_ORIGINS", f"{H5}, https://dash.brand.example")
    assert Settings().cors_origins == [H5, "https://dash.brand.example"]
    monkeypatch.setenv("IRS_CORS_ORIGINS", json.dumps([H5]))
    assert Settings().cors_origins == [H5]
    monkeypatch.setenv("IRS_CORS_ORIGINS", "")
    assert Settings().cors_origins == []


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "https://h5.brand.example/app",
        "H5.brand.example",
        "https://H5.Brand.example",
        "ftp://h5.brand.example",
        "https://h5.brand.example/",
    ],
)
def test_only_exact_origins_are_accepted(origin):
    with pytest.raises(ValueError, match="exact origin"):
        Settings(cors_origins=[origin])


# HTTP ------------------------------------------------------------------------------------------


async def test_a_preflight_from_an_allowed_origin_is_answered(api):
    response = await preflight(api, DEV_ORIGIN)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DEV_ORIGIN
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-request-id", "x-source-key"} <= allowed
    assert response.headers["x-request-id"]


async def test_a_preflight_from_another_origin_is_refused(api):
    response = await preflight(api, STRANGER)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_an_allowed_origin_may_read_the_answer_and_its_request_id(api):
    response = await api.post("{ __typename }", origin=DEV_ORIGIN)
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["access-control-allow-origin"] == DEV_ORIGIN
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


async def test_another_origin_gets_no_allow_origin_header(api):
    response = await api.post("{ __typename }", origin=STRANGER)
    assert "access-control-allow-origin" not in response.headers


async def test_production_allows_no_origin_by_default(app_factory):
    api = await app_factory(env="production")
    assert (await preflight(api, DEV_ORIGIN)).status_code == 400
    assert "access-control-allow-origin" not in (await api.post("{ __typename }", origin=DEV_ORIGIN)).headers


async def test_the_list_replaces_the_development_ports(app_factory):
    api = await app_factory(cors_origins=[H5])
    assert (await preflight(api, H5)).headers["access-control-allow-origin"] == H5
    assert (await preflight(api, DEV_ORIGIN)).status_code == 400


# WebSocket -------------------------------------------------------------------------------------


async def typename_over_socket(address: str, origin: str | None) -> dict:
    """Open a graphql-transport-ws socket (with this Origin header, or none) and run one query."""
    async with connect(f"ws://{address}/graphql", origin=origin, subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}}))
        return json.loads(await socket.recv())


async def refused_status(address: str, origin: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await typename_over_socket(address, origin)
    return refused.value.response.status_code


async def test_a_socket_from_an_allowed_origin_connects(live_server):
    answer = await typename_over_socket(live_server, DEV_ORIGIN)
    assert answer["type"] == "next" and answer["payload"] == {"data": {"__typename": "Query"}}


async def test_a_socket_from_another_origin_is_refused(live_server):
    assert await refused_status(live_server, STRANGER) == 403


async def test_a_socket_without_origin_connects(live_server):
    """Native apps (the guide app) send no Origin: they carry no browser's ambient credentials."""
    answer = await typename_over_socket(live_server, None)
    assert answer["payload"] == {"data": {"__typename": "Query"}}


async def test_sockets_follow_the_configured_list(db, tmp_root, clock):
    server = LiveServer(db.engine.url.render_as_string(hide_password=False), tmp_root, clock, cors_origins=[H5])
    await server.start()
    try:
        assert (await typename_over_socket(server.address, H5))["type"] == "next"
        assert await refused_status(server.address, DEV_ORIGIN) == 403
    finally:
        await server.stop()
