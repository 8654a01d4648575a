"""Money beyond 32 bits: lifetime values past 2^31 fen, a total of 10^12 fen, and the per-purchase cap."""

from __future__ import annotations

import pytest

from tests.conftest import count_rows

from .test_api_ingest import create_source, ev, ingest, ingest_raw

PHONE = "phone:13812345678"
LIFETIME = """query($id: ID!) { customer(id: $id) { purchaseCount lifetimeValue { amount currency } } }"""


def purchase(event_id: str, amount, phone: str = PHONE) -> dict:
    return ev(event_id, phone, type="POS_PURCHASE", properties={"amount": amount, "currency": "CNY"})


async def lifetime(api, token: str, customer_id: str) -> dict:
    return (await api.data(LIFETIME, {"id": customer_id}, token))["customer"]


async def test_a_lifetime_value_past_two_to_the_31_is_readable(api, world, key, admin):
    result = await ingest(api, key, purchase("p1", 1_500_000_000), purchase("p2", 700_000_000))
    assert result["accepted"] == 2
    customer_id = result["results"][0]["customerId"]
    assert await lifetime(api, admin, customer_id) == {
        "purchaseCount": 2,
        "lifetimeValue": {"amount": 2_200_000_000, "currency": "CNY"},
    }


async def test_a_total_of_ten_to_the_12_fen_is_exact(api, world, key, admin):
    events = [purchase(f"p{n}", 10**10) for n in range(100)]
    result = await ingest(api, key, *events)
    assert result["accepted"] == 100
    customer = await lifetime(api, admin, result["results"][0]["customerId"])
    assert customer["lifetimeValue"]["amount"] == 10**12


@pytest.mark.parametrize("amount", [10**10 + 1, 10**30, 2**63])
async def test_a_purchase_above_the_cap_is_refused_and_the_good_ones_kept(api, db, world, key, amount):
    result = await ingest(api, key, purchase("big", amount), purchase("ok", 12_900))
    assert result["accepted"] == 1 and result["rejected"] == 1
    refused = result["results"][0]
    assert refused["status"] == "REJECTED" and refused["code"] == "OUT_OF_RANGE"
    assert await count_rows(db, "customer_event") == 1


@pytest.mark.parametrize("amount", [-1, 1.5, "100", True])
async def test_an_amount_that_is_not_whole_fen_is_refused(api, db, world, key, amount):
    result = await ingest(api, key, purchase("bad", amount))
    assert result["results"][0]["code"] == "INVALID_VALUE"
    assert await count_rows(db, "customer_event") == 0


async def test_the_cap_is_a_setting(app_factory, db, world, token_for):
    api = await app_factory(max_event_amount=1_000)
    admin = await token_for("admin")
    key = (await create_source(api, admin))["apiKey"]
    body = await ingest_raw(api, key, purchase("a", 1_000), purchase("b", 1_001))
    assert [r["status"] for r in body["data"]["eventsIngest"]["results"]] == ["ACCEPTED", "REJECTED"]


async def test_a_sum_no_json_client_can_hold_exactly_is_refused_not_rounded(app_factory, db, world, token_for):
    api = await app_factory(max_event_amount=2**53 - 1)
    admin = await token_for("admin")
    key = (await create_source(api, admin))["apiKey"]
    result = await ingest(api, key, purchase("a", 2**53 - 1), purchase("b", 2))
    body = await api(LIFETIME, {"id": result["results"][0]["customerId"]}, admin)
    assert body["data"]["customer"] is None  # lifetimeValue is non-null: the error nulls its parent
    assert [e["extensions"]["code"] for e in body["errors"]] == ["AMOUNT_OUT_OF_RANGE"]
    assert "Internal error" not in str(body)
