"""A bad access token is answered "invalid access token", never with the decoder's own words."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
import websockets

from tests.conftest import TEST_SECRET, answered_nothing
from tests.world import login

ME = "{ me { displayName } }"
INTERNALS = ("codec", "header", "Signature", "alg", "segments", "padding", "decode", "Invalid", "utf-8")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims() -> dict:
    return {
        "sub": "staff:1",
        "iss": "irs",
        "iat": 1,
        "exp": 4_000_000_000,
        "typ": "access",
        "role": "HQ_ADMIN",
        "store": None,
    }


PAYLOAD = _b64(json.dumps(_claims()).encode())
NOT_UTF8 = _b64(bytes([0xFF, 0xFE, 0xFD]))
# Each as it reached the decoder; all signed (where signed at all) so that only the named flaw is wrong.
BAD_TOKENS = {
    "garbage": "forged",
    "not base64": "!!!.@@@.###",
    "header not utf-8": f"{NOT_UTF8}.{PAYLOAD}.c2ln",
    "header not json": f"{_b64(b'not json')}.{PAYLOAD}.c2ln",
    "wrong signature": jwt.encode(_claims(), "another-secret-" + "y" * 40, algorithm="HS256"),
    "wrong algorithm": jwt.encode(_claims(), TEST_SECRET, algorithm="HS384"),
    "no algorithm": jwt.encode(_claims(), None, algorithm="none"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
async def test_a_bad_token_over_http_is_an_invalid_access_token(api, world, case):
    body = await api(ME, token=BAD_TOKENS[case])
    assert answered_nothing(body)
    [error] = body["errors"]
    assert (error["message"], error["extensions"]["code"]) == ("invalid access token", "UNAUTHENTICATED")


async def test_an_expired_token_still_says_it_expired(api, world, clock):
    token = await login(api, "sh.guide")
    clock.advance(minutes=16)
    [error] = (await api(ME, token=token))["errors"]
    assert (error["message"], error["extensions"]["code"]) == ("access token expired", "UNAUTHENTICATED")


@pytest.mark.parametrize("case", list(BAD_TOKENS))
async def test_a_bad_token_in_connection_init_is_refused_without_the_decoders_words(world, live_server, case):
    async with websockets.connect(f"ws://{live_server}/graphql", subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {BAD_TOKENS[case]}"}})
        )
        received = []
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                received.append(await socket.recv())
    assert socket.close_code == 4403
    said = " ".join([*received, socket.close_reason or ""])
    assert not [word for word in INTERNALS if word.lower() in said.lower()], said
