"""A GraphQL client over HTTP for the simulation: signed-in accounts that refresh their tokens."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx

from . import operations as ops


class ApiError(RuntimeError):
    """A top-level GraphQL error, or a payload's user errors."""


@dataclass
class Account:
    """Someone signed in: her tokens, refreshed (once at a time) when the access token has expired."""

    name: str
    access_token: str
    refresh_token: str
    viewer_id: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Api:
    """Calls /graphql of one server, as any client would."""

    def __init__(self, base_url: str, concurrency: int = 8) -> None:
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=120)
        self.gate = asyncio.Semaphore(concurrency)

    async def close(self) -> None:
        await self.http.aclose()

    async def raw(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        async with self.gate:
            response = await self.http.post(
                "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
            )
        return response.json()

    async def data(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        body = await self.raw(query, variables, token)
        if body.get("errors"):
            raise ApiError(str(body["errors"]))
        return body["data"]

    async def as_account(self, account: Account, query: str, variables: dict | None = None) -> dict:
        """The call's data, as ``account``: an expired access token is refreshed and the call repeated."""
        token = account.access_token
        body = await self.raw(query, variables, token)
        if _unauthenticated(body):
            await self._refresh(account, token)
            body = await self.raw(query, variables, account.access_token)
        if body.get("errors"):
            raise ApiError(f"{account.name}: {body['errors']}")
        return body["data"]

    async def mutate(self, account: Account, query: str, variables: dict, root: str) -> dict:
        """A mutation's payload; its user errors raise."""
        payload = (await self.as_account(account, query, variables))[root]
        if payload["errors"]:
            raise ApiError(f"{account.name} {root}: {payload['errors']}")
        return payload

    async def _refresh(self, account: Account, spent: str) -> None:
        async with account.lock:
            if account.access_token != spent:
                return  # another call refreshed it meanwhile
            variables = {"token": account.refresh_token}
            session = _session((await self.data(ops.TOKEN_REFRESH, variables))["tokenRefresh"], account.name)
            account.access_token, account.refresh_token = session["accessToken"], session["refreshToken"]

    async def staff_login(self, username: str, password: str) -> Account:
        payload = (await self.data(ops.STAFF_LOGIN, {"u": username, "p": password}))["staffLogin"]
        return _account(username, _session(payload, username))

    async def customer_login(self, phone: str, sms_code: str) -> Account:
        payload = (await self.data(ops.CUSTOMER_LOGIN, {"phone": phone, "code": sms_code}))["customerLogin"]
        return _account(phone, _session(payload, phone))


def _unauthenticated(body: dict) -> bool:
    return any(e.get("extensions", {}).get("code") == "UNAUTHENTICATED" for e in body.get("errors") or [])


def _session(payload: dict, who: str) -> dict[str, Any]:
    if payload["errors"]:
        raise ApiError(f"{who} could not sign in: {payload['errors']}")
    return payload["session"]


def _account(name: str, session: dict) -> Account:
    return Account(name, session["accessToken"], session["refreshToken"], session["viewer"]["id"])
