"""SKUs over GraphQL: variants at productCreate, productSkuCreate/Update, sku, skuByBarcode, product search."""

from __future__ import annotations

import pytest

from server.domains.catalog.models import ProductSku
from tests.server.assertions import assert_forbidden, assert_user_error, count_tables, fetch
from tests.world import gid

ERRORS = "errors { code field message }"
SKU = "id code barcode attributes { name value } price { amount currency } active product { sku }"
PRODUCT_CREATE = f"""mutation($input: ProductCreateInput!) {{
  productCreate(input: $input) {{ product {{ sku images skus {{ {SKU} }} }} {ERRORS} }} }}"""
SKU_CREATE = f"""mutation($input: ProductSkuCreateInput!) {{
  productSkuCreate(input: $input) {{ sku {{ {SKU} }} {ERRORS} }} }}"""
SKU_UPDATE = f"""mutation($input: ProductSkuUpdateInput!) {{
  productSkuUpdate(input: $input) {{ sku {{ {SKU} }} {ERRORS} }} }}"""
BY_BARCODE = f"query($code: String!) {{ skuByBarcode(code: $code) {{ {SKU} }} }}"
ONE_SKU = f"query($id: ID!) {{ sku(id: $id) {{ {SKU} }} }}"
SEARCH = """query($search: String, $barcode: String) {
  products(search: $search, barcode: $barcode) { edges { node { sku skus { code } } } } }"""
TABLES = ("product", "product_sku", "idempotency_record")


def lipstick_input(world, **overrides) -> dict:
    value = {
        "sku": "LIP-02",
        "name": "丝绒唇釉",
        "categoryId": world.gid("ProductCategory", "makeup"),
        "price": {"amount": 29000},
        "images": ["https://cdn.example.com/lip-02.jpg"],
        "skus": [
            {
                "code": "LIP-02-01",
                "price": {"amount": 29000},
                "barcode": "036000291452",
                "attributes": [{"name": "shade", "value": "01 正红"}],
            },
            {"code": "LIP-02-02", "price": {"amount": 31000}, "attributes": [{"name": "shade", "value": "02"}]},
        ],
    }
    value.update(overrides)
    return value


async def test_product_create_with_variants_stores_each_sku(api, world, token_for, db):
    token = await token_for("admin")
    payload = (await api.data(PRODUCT_CREATE, {"input": lipstick_input(world)}, token))["productCreate"]
    assert payload["errors"] == []
    product = payload["product"]
    assert product["images"] == ["https://cdn.example.com/lip-02.jpg"]
    assert [(s["code"], s["barcode"], s["price"]["amount"]) for s in product["skus"]] == [
        ("LIP-02-01", "0036000291452", 29000),  # the UPC-A code, under its EAN-13 spelling
        ("LIP-02-02", None, 31000),
    ]
    assert product["skus"][0]["attributes"] == [{"name": "shade", "value": "01 正红"}]
    rows = await fetch(db, ProductSku, code="LIP-02-02")
    assert rows[0].attributes == {"shade": "02"} and rows[0].currency == "CNY"


async def test_a_product_created_without_variants_gets_one_sku_with_its_code_and_price(api, world, token_for, db):
    token = await token_for("admin")
    given = lipstick_input(world, sku="MASK-01", skus=[])
    payload = (await api.data(PRODUCT_CREATE, {"input": given}, token))["productCreate"]
    (sku,) = payload["product"]["skus"]
    assert (sku["code"], sku["price"]["amount"], sku["attributes"]) == ("MASK-01", 29000, [])


@pytest.mark.parametrize(
    ("sku_overrides", "code", "field"),
    [
        ({"barcode": "6901234567891"}, "INVALID_BARCODE", ["input", "skus", "0", "barcode"]),
        ({"barcode": "12345"}, "INVALID_BARCODE", ["input", "skus", "0", "barcode"]),
        ({"code": "lower"}, "INVALID_FORMAT", ["input", "skus", "0", "code"]),
        ({"price": {"amount": -1}}, "OUT_OF_RANGE", ["input", "skus", "0", "price", "amount"]),
        (
            {"price": {"amount": 100, "currency": "USD"}},
            "INVALID_CURRENCY",
            ["input", "skus", "0", "price", "currency"],
        ),
        ({"attributes": [{"name": "Shade", "value": "x"}]}, "INVALID_FORMAT", ["input", "skus", "0", "attributes"]),
        (
            {"attributes": [{"name": "shade", "value": "\u202e01"}]},
            "INVALID_FORMAT",
            ["input", "skus", "0", "attributes", "shade"],
        ),
        ({"code": "SERUM-01"}, "DUPLICATE_SKU", ["input", "skus"]),  # the world's serum SKU
        ({"barcode": "6901234567892"}, "DUPLICATE_SKU", ["input", "skus"]),
    ],
)
async def test_product_create_refuses_bad_variants_and_writes_nothing(
    api, world, token_for, db, sku_overrides, code, field
):
    token = await token_for("admin")
    given = lipstick_input(world)
    given["skus"][0].update(sku_overrides)
    before = await count_tables(db, TABLES)
    payload = (await api.data(PRODUCT_CREATE, {"input": given}, token))["productCreate"]
    assert_user_error(payload, code, field, "product")
    assert await count_tables(db, TABLES) == before


async def test_two_variants_of_one_request_cannot_share_a_code(api, world, token_for, db):
    token = await token_for("admin")
    given = lipstick_input(world)
    given["skus"][1]["code"] = "LIP-02-01"
    before = await count_tables(db, TABLES)
    payload = (await api.data(PRODUCT_CREATE, {"input": given}, token))["productCreate"]
    assert_user_error(payload, "DUPLICATE_SKU", ["input", "skus"], "product")
    assert await count_tables(db, TABLES) == before


async def test_sku_create_adds_a_variant_once_per_key(api, world, token_for, db):
    token = await token_for("admin")
    given = {
        "productId": world.gid("Product", "lipstick"),
        "code": "LIP-01-PINK",
        "price": {"amount": 33000},
        "barcode": "6901234567915",
        "attributes": [{"name": "shade", "value": "520"}],
        "idempotencyKey": "pink-1",
    }
    first = (await api.data(SKU_CREATE, {"input": given}, token))["productSkuCreate"]
    again = (await api.data(SKU_CREATE, {"input": given}, token))["productSkuCreate"]
    assert first["errors"] == [] and again == first
    assert first["sku"]["product"] == {"sku": "LIP-01"}
    assert len(await fetch(db, ProductSku, code="LIP-01-PINK")) == 1


@pytest.mark.parametrize("username", ["sh.manager", "sh.guide", "ops", "analyst"])
async def test_sku_changes_need_hq_admin(api, world, token_for, db, username):
    token = await token_for(username)
    given = {"productId": world.gid("Product", "lipstick"), "code": "LIP-01-X", "price": {"amount": 1}}
    await assert_forbidden(api, SKU_CREATE, {"input": given}, token)
    await assert_forbidden(api, SKU_UPDATE, {"input": {"id": world.gid("Sku", "sku:serum"), "active": False}}, token)
    assert await fetch(db, ProductSku, code="LIP-01-X") == []


async def test_sku_create_for_an_unknown_product_is_not_found(api, world, token_for, db):
    token = await token_for("admin")
    given = {"productId": gid("Product", 2**31 - 1), "code": "GHOST-1", "price": {"amount": 1}}
    payload = (await api.data(SKU_CREATE, {"input": given}, token))["productSkuCreate"]
    assert_user_error(payload, "NOT_FOUND", ["input", "productId"], "sku")


async def test_sku_update_changes_given_fields_only(api, world, token_for, db):
    token = await token_for("admin")
    changes = {"id": world.gid("Sku", "sku:lip-nude"), "price": {"amount": 30000}, "barcode": "6901234567915"}
    payload = (await api.data(SKU_UPDATE, {"input": changes}, token))["productSkuUpdate"]
    assert payload["errors"] == []
    (row,) = await fetch(db, ProductSku, code="LIP-01-NUDE")
    assert (row.price_amount, row.barcode, row.attributes, row.active) == (
        30000,
        "6901234567915",
        {"shade": "101"},
        True,
    )


async def test_sku_update_refuses_a_barcode_another_sku_has(api, world, token_for, db):
    token = await token_for("admin")
    changes = {"id": world.gid("Sku", "sku:lip-nude"), "barcode": "6901234567892", "price": {"amount": 1}}
    payload = (await api.data(SKU_UPDATE, {"input": changes}, token))["productSkuUpdate"]
    assert_user_error(payload, "DUPLICATE_SKU", ["input", "barcode"], "sku")
    (row,) = await fetch(db, ProductSku, code="LIP-01-NUDE")
    assert (row.barcode, row.price_amount) == (None, 32000)


async def test_sku_by_barcode_reads_ean13_and_upca(api, world, token_for, db):
    token = await token_for("sh.guide")
    found = (await api.data(BY_BARCODE, {"code": "6901234567908"}, token))["skuByBarcode"]
    assert found["code"] == "LIP-01-RED" and found["attributes"] == [{"name": "shade", "value": "999"}]
    admin = await token_for("admin")
    await api.data(PRODUCT_CREATE, {"input": lipstick_input(world)}, admin)
    assert (await api.data(BY_BARCODE, {"code": "036000291452"}, token))["skuByBarcode"]["code"] == "LIP-02-01"
    assert (await api.data(BY_BARCODE, {"code": "0036000291452"}, token))["skuByBarcode"]["code"] == "LIP-02-01"


@pytest.mark.parametrize("code", ["", "6901234567891", "abc", "9" * 40, "６９０１２３４５６７８９２"])
async def test_sku_by_barcode_answers_null_for_what_is_no_known_barcode(api, world, token_for, code):
    token = await token_for("sh.guide")
    assert (await api.data(BY_BARCODE, {"code": code}, token))["skuByBarcode"] is None


async def test_sku_by_id(api, world, token_for):
    token = await token_for("sh.guide")
    found = (await api.data(ONE_SKU, {"id": world.gid("Sku", "sku:serum")}, token))["sku"]
    assert found["code"] == "SERUM-01" and found["product"] == {"sku": "SERUM-01"}
    assert (await api.data(ONE_SKU, {"id": gid("Sku", 2**31 - 1)}, token))["sku"] is None


async def test_products_search_by_name_code_and_barcode(api, world, token_for):
    token = await token_for("sh.guide")

    async def found(**variables):
        data = await api.data(SEARCH, variables, token)
        return [edge["node"]["sku"] for edge in data["products"]["edges"]]

    assert await found(search="唇") == ["LIP-01"]
    assert await found(search="nude") == ["LIP-01"]  # a SKU's code, any case
    assert await found(search="serum") == ["SERUM-01"]
    assert await found(search="%") == []  # wildcards are literal
    assert await found(barcode="6901234567908") == ["LIP-01"]
    assert await found(barcode="123") == []


@pytest.mark.parametrize("search", ["", " ", "x" * 51, "a\x1bb", "\u202eab"])
async def test_products_search_outside_1_to_50_characters_is_bad_input(api, world, token_for, search):
    token = await token_for("sh.guide")
    body = await api(SEARCH, {"search": search}, token)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == ["search"]


@pytest.mark.parametrize("huge", [2**31, 2**40, 2**63 - 1])
async def test_an_id_beyond_the_integer_keys_is_bad_input_not_an_internal_error(api, world, token_for, db, huge):
    token = await token_for("admin")
    given = {"productId": gid("Product", huge), "code": "GHOST-1", "price": {"amount": 1}}
    body = await api(SKU_CREATE, {"input": given}, token)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    assert await fetch(db, ProductSku, code="GHOST-1") == []
