"""`me` is every screen's first question: once her account is confirmed (kept a few seconds), a staff member's
`me` with her store is one read."""

from __future__ import annotations

import pytest

from tests.server.assertions import Statements
from tests.world import LOGIN, PASSWORD

ME = "{ me { displayName ... on StaffUser { role store { code name } } } }"


def _reads(statement: str) -> bool:
    return not statement.lstrip().upper().startswith(("BEGIN", "ROLLBACK", "COMMIT"))


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("sh.guide", {"displayName": "Sh.Guide", "role": "GUIDE", "store": {"code": "S001", "name": "上海店"}}),
        ("admin", {"displayName": "Admin", "role": "HQ_ADMIN", "store": None}),
    ],
)
async def test_a_confirmed_staff_members_me_with_her_store_is_one_read(api, world, username, expected):
    token = (await api.data(LOGIN, {"u": username, "p": PASSWORD}))["staffLogin"]["session"]["accessToken"]
    await api.data(ME, token=token)  # her account is confirmed, then kept
    with Statements(api, _reads) as statements:
        answer = await api.data(ME, token=token)
    assert answer["me"] == expected
    assert len(statements.seen) == 1, "\n".join(statements.seen)
