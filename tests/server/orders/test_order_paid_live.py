"""orderPaid over a real WebSocket: the store's guides hear an order paid (the QR payment's moment)."""

from __future__ import annotations

import httpx
import pytest
from gql import GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError

from server.domains.orders.topics import store_orders_topic
from tests.live_server import free_port
from tests.server.live import serve, socket_for, subscribed_then
from tests.world import login

from .conftest import stock
from .test_orders_api import CREATE, PAY, order_input

ORDER_PAID = gql("subscription($store: ID!) { orderPaid(storeId: $store) { number status total { amount } } }")


async def test_a_guide_hears_the_order_paid(db, world, api, tmp_root, clock, shopper):
    await stock(db, world, 5)
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock) as server:
        guide = await login(api, "sh.guide")
        order = (await server.graphql(CREATE, {"input": order_input(world, shopper[1])}, guide))["orderCreate"]["order"]

        async def pay():
            return await server.graphql(PAY, {"input": {"orderId": order["id"], "method": "CASH"}}, guide)

        _, event = await subscribed_then(
            socket_for(server.address, guide),
            ORDER_PAID,
            server,
            store_orders_topic(world.ids["shanghai"]),
            pay,
            {"store": world.gid("Store", "shanghai")},
        )
    assert event["orderPaid"] == {"number": order["number"], "status": "PAID", "total": {"amount": 178000}}


async def test_another_stores_guide_cannot_listen(db, world, api, tmp_root, clock):
    url = db.engine.url.render_as_string(hide_password=False)
    async with serve(url, tmp_root, clock) as server:
        guide = await login(api, "bj.guide")
        request = GraphQLRequest(ORDER_PAID, variable_values={"store": world.gid("Store", "shanghai")})
        with pytest.raises(TransportQueryError) as refused:
            async with socket_for(server.address, guide) as session:
                async for _ in session.subscribe(request):
                    raise AssertionError("a Beijing guide heard Shanghai's orders")
    assert refused.value.errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_in_development_the_server_plays_the_payment_vendors_itself(db, world, api, tmp_root, clock, shopper):
    """make run: the sandbox served at /sandbox-pay beside the API; paying on its page settles the order."""
    await stock(db, world, 5)
    url = db.engine.url.render_as_string(hide_password=False)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with serve(url, tmp_root, clock, port=port, payments_sandbox=True, public_url=base) as server:
        guide = await login(api, "sh.guide")
        order = (await server.graphql(CREATE, {"input": order_input(world, shopper[1])}, guide))["orderCreate"]["order"]
        paying = (await server.graphql(PAY, {"input": {"orderId": order["id"], "method": "ALIPAY"}}, guide))["orderPay"]
        assert paying["payment"]["status"] == "PENDING" and paying["payment"]["qrPayload"]
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            (charge,) = (await client.get("/sandbox-pay/sandbox/charges")).json()
            paid = (await client.post(f"/sandbox-pay/sandbox/pay/alipay/{charge['out_trade_no']}")).json()
            assert paid["status"] == 200 and paid["answer"] == "success"
        found = await server.graphql("query($id: ID!) { order(id: $id) { status } }", {"id": order["id"]}, guide)
    assert found["order"]["status"] == "PAID"
