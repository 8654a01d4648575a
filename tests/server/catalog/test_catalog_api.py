"""Catalog over GraphQL: productCategoryCreate, serviceCreate, productCreate/Update, products."""

from __future__ import annotations

import pytest

from server.domains.catalog.models import Product, ProductCategory, Service
from tests.conftest import count_rows
from tests.server.assertions import assert_forbidden, assert_user_error, count_tables, fetch
from tests.world import gid

ERRORS = "errors { code field message }"
PRODUCT = "id sku name description price { amount currency } active category { code }"
CATEGORY_CREATE = f"""mutation($input: ProductCategoryCreateInput!) {{
  productCategoryCreate(input: $input) {{ category {{ id code name }} {ERRORS} }} }}"""
SERVICE_CREATE = f"""mutation($input: ServiceCreateInput!) {{
  serviceCreate(input: $input) {{ service {{ id code name durationMinutes active }} {ERRORS} }} }}"""
PRODUCT_CREATE = f"""mutation($input: ProductCreateInput!) {{
  productCreate(input: $input) {{ product {{ {PRODUCT} }} {ERRORS} }} }}"""
PRODUCT_UPDATE = f"""mutation($input: ProductUpdateInput!) {{
  productUpdate(input: $input) {{ product {{ {PRODUCT} }} {ERRORS} }} }}"""
PRODUCTS = """query($categoryId: ID, $active: Boolean) {
  products(categoryId: $categoryId, active: $active) { totalCount edges { node { sku } } } }"""
TABLES = ("product_category", "service", "product", "idempotency_record")


def product_input(world, **overrides) -> dict:
    value = {
        "sku": "CREAM-01",
        "name": "面霜",
        "categoryId": world.gid("ProductCategory", "skincare"),
        "price": {"amount": 45000, "currency": "CNY"},
        "description": "滋润",
    }
    value.update(overrides)
    return value


async def counts(db) -> dict[str, int]:
    return await count_tables(db, TABLES)


async def product_row(db, sku: str) -> dict:
    (row,) = await fetch(db, Product, sku=sku)
    return row.model_dump()


# productCategoryCreate -----------------------------------------------------------------------


async def test_category_create_returns_category_and_writes_row(api, world, token_for, db):
    token = await token_for("admin")
    payload = (await api.data(CATEGORY_CREATE, {"input": {"code": "FRAGRANCE", "name": " 香水 "}}, token))[
        "productCategoryCreate"
    ]
    assert payload["errors"] == []
    (row,) = await fetch(db, ProductCategory, code="FRAGRANCE")
    assert payload["category"] == {"id": gid("ProductCategory", row.id), "code": "FRAGRANCE", "name": "香水"}
    assert row.name == "香水"


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param({"code": "fragrance"}, "INVALID_FORMAT", ["input", "code"], id="code-lower-case"),
        pytest.param({"code": "F"}, "INVALID_FORMAT", ["input", "code"], id="code-one-character"),
        pytest.param({"code": "HAIR-CARE"}, "INVALID_FORMAT", ["input", "code"], id="code-with-dash"),
        pytest.param({"code": "C" * 33}, "TOO_LONG", ["input", "code"], id="code-too-long"),
        pytest.param({"code": ""}, "REQUIRED", ["input", "code"], id="code-empty"),
        pytest.param({"code": "SKINCARE"}, "DUPLICATE_CODE", ["input", "code"], id="code-duplicate"),
        pytest.param({"name": "  "}, "REQUIRED", ["input", "name"], id="name-blank"),
        pytest.param({"name": "n" * 65}, "TOO_LONG", ["input", "name"], id="name-too-long"),
    ],
)
async def test_category_create_rejects_bad_input_and_writes_nothing(api, world, token_for, db, overrides, code, field):
    token = await token_for("admin")
    before = await counts(db)
    data = await api.data(CATEGORY_CREATE, {"input": {"code": "FRAGRANCE", "name": "香水", **overrides}}, token)
    assert_user_error(data["productCategoryCreate"], code, field, "category")
    assert await counts(db) == before


@pytest.mark.parametrize("username", ["ops", "sh.manager", "analyst"])
async def test_category_create_needs_hq_admin(api, world, token_for, db, username):
    variables = {"input": {"code": "FRAGRANCE", "name": "香水"}}
    await assert_forbidden(api, CATEGORY_CREATE, variables, await token_for(username))
    assert await count_rows(db, "product_category") == 2


async def test_category_create_idempotency(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": {"code": "FRAGRANCE", "name": "香水", "idempotencyKey": "cat-1"}}
    first = (await api.data(CATEGORY_CREATE, variables, token))["productCategoryCreate"]
    second = (await api.data(CATEGORY_CREATE, variables, token))["productCategoryCreate"]
    assert first["errors"] == [] and second == first
    assert await count_rows(db, "product_category") == 3
    other = {"input": {"code": "TOOLS", "name": "工具", "idempotencyKey": "cat-1"}}
    assert_user_error(
        (await api.data(CATEGORY_CREATE, other, token))["productCategoryCreate"],
        "IDEMPOTENCY_KEY_REUSED",
        ["input", "idempotencyKey"],
        "category",
    )
    assert await count_rows(db, "product_category") == 3


# serviceCreate -------------------------------------------------------------------------------


async def test_service_create_returns_service_and_writes_row(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": {"code": "SKIN_ANALYSIS", "name": "肌肤检测", "durationMinutes": 60}}
    payload = (await api.data(SERVICE_CREATE, variables, token))["serviceCreate"]
    assert payload["errors"] == []
    (row,) = await fetch(db, Service, code="SKIN_ANALYSIS")
    assert payload["service"] == {
        "id": gid("Service", row.id),
        "code": "SKIN_ANALYSIS",
        "name": "肌肤检测",
        "durationMinutes": 60,
        "active": True,
    }
    assert (row.name, row.duration_minutes, row.active) == ("肌肤检测", 60, True)


async def test_service_create_defaults_to_30_minutes(api, world, token_for, db):
    token = await token_for("admin")
    payload = (await api.data(SERVICE_CREATE, {"input": {"code": "CONSULT", "name": "咨询"}}, token))["serviceCreate"]
    assert payload["service"]["durationMinutes"] == 30
    assert (await fetch(db, Service, code="CONSULT"))[0].duration_minutes == 30


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param({"code": "skin"}, "INVALID_FORMAT", ["input", "code"], id="code-lower-case"),
        pytest.param({"code": "MAKEUP_TRIAL"}, "DUPLICATE_CODE", ["input", "code"], id="code-duplicate"),
        pytest.param({"name": ""}, "REQUIRED", ["input", "name"], id="name-empty"),
        pytest.param({"name": "n" * 65}, "TOO_LONG", ["input", "name"], id="name-too-long"),
        pytest.param({"durationMinutes": 4}, "OUT_OF_RANGE", ["input", "durationMinutes"], id="duration-too-short"),
        pytest.param({"durationMinutes": 481}, "OUT_OF_RANGE", ["input", "durationMinutes"], id="duration-too-long"),
        pytest.param({"durationMinutes": -30}, "OUT_OF_RANGE", ["input", "durationMinutes"], id="duration-negative"),
    ],
)
async def test_service_create_rejects_bad_input_and_writes_nothing(api, world, token_for, db, overrides, code, field):
    token = await token_for("admin")
    before = await counts(db)
    variables = {"input": {"code": "SKIN_ANALYSIS", "name": "肌肤检测", **overrides}}
    assert_user_error((await api.data(SERVICE_CREATE, variables, token))["serviceCreate"], code, field, "service")
    assert await counts(db) == before


@pytest.mark.parametrize("username", ["ops", "sh.manager", "sh.guide"])
async def test_service_create_needs_hq_admin(api, world, token_for, db, username):
    variables = {"input": {"code": "SKIN_ANALYSIS", "name": "肌肤检测"}}
    await assert_forbidden(api, SERVICE_CREATE, variables, await token_for(username))
    assert await count_rows(db, "service") == 1


async def test_service_create_idempotency(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": {"code": "SKIN_ANALYSIS", "name": "肌肤检测", "idempotencyKey": "svc-1"}}
    first = (await api.data(SERVICE_CREATE, variables, token))["serviceCreate"]
    second = (await api.data(SERVICE_CREATE, variables, token))["serviceCreate"]
    assert first["errors"] == [] and second == first
    assert await count_rows(db, "service") == 2
    longer = {"input": {**variables["input"], "durationMinutes": 90}}
    assert_user_error(
        (await api.data(SERVICE_CREATE, longer, token))["serviceCreate"],
        "IDEMPOTENCY_KEY_REUSED",
        ["input", "idempotencyKey"],
        "service",
    )
    assert await count_rows(db, "service") == 2


# productCreate -------------------------------------------------------------------------------


async def test_product_create_returns_product_and_writes_row(api, world, token_for, db):
    token = await token_for("admin")
    payload = (await api.data(PRODUCT_CREATE, {"input": product_input(world)}, token))["productCreate"]
    assert payload["errors"] == []
    row = await product_row(db, "CREAM-01")
    assert payload["product"] == {
        "id": gid("Product", row["id"]),
        "sku": "CREAM-01",
        "name": "面霜",
        "description": "滋润",
        "price": {"amount": 45000, "currency": "CNY"},
        "active": True,
        "category": {"code": "SKINCARE"},
    }
    assert (row["name"], row["category_id"], row["price_amount"], row["currency"], row["active"]) == (
        "面霜",
        world.ids["skincare"],
        45000,
        "CNY",
        True,
    )


async def test_product_create_free_and_inactive(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": product_input(world, price={"amount": 0}, active=False)}
    product = (await api.data(PRODUCT_CREATE, variables, token))["productCreate"]["product"]
    assert product["price"] == {"amount": 0, "currency": "CNY"} and product["active"] is False
    row = await product_row(db, "CREAM-01")
    assert (row["price_amount"], row["currency"], row["active"]) == (0, "CNY", False)


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param({"sku": "SERUM-01"}, "DUPLICATE_SKU", ["input", "sku"], id="sku-duplicate"),
        pytest.param({"sku": "cream-01"}, "INVALID_FORMAT", ["input", "sku"], id="sku-lower-case"),
        pytest.param({"sku": "CREAM_01"}, "INVALID_FORMAT", ["input", "sku"], id="sku-underscore"),
        pytest.param({"sku": "S" * 33}, "TOO_LONG", ["input", "sku"], id="sku-too-long"),
        pytest.param({"sku": ""}, "REQUIRED", ["input", "sku"], id="sku-empty"),
        pytest.param({"name": " "}, "REQUIRED", ["input", "name"], id="name-blank"),
        pytest.param({"name": "n" * 101}, "TOO_LONG", ["input", "name"], id="name-too-long"),
        pytest.param({"description": "d" * 2001}, "TOO_LONG", ["input", "description"], id="description-too-long"),
        pytest.param(
            {"price": {"amount": 45000, "currency": "USD"}},
            "INVALID_CURRENCY",
            ["input", "price", "currency"],
            id="currency-usd",
        ),
        pytest.param(
            {"price": {"amount": 45000, "currency": "cny"}},
            "INVALID_CURRENCY",
            ["input", "price", "currency"],
            id="currency-lower-case",
        ),
        pytest.param({"price": {"amount": -1}}, "OUT_OF_RANGE", ["input", "price", "amount"], id="price-negative"),
        pytest.param(
            {"price": {"amount": 10**10 + 1}},
            "OUT_OF_RANGE",
            ["input", "price", "amount"],
            id="price-above-a-hundred-million-yuan",
        ),
        pytest.param(
            {"categoryId": gid("ProductCategory", 999999)}, "NOT_FOUND", ["input", "categoryId"], id="category-unknown"
        ),
        pytest.param({"categoryId": gid("Store", 1)}, "NOT_FOUND", ["input", "categoryId"], id="category-other-type"),
    ],
)
async def test_product_create_rejects_bad_input_and_writes_nothing(api, world, token_for, db, overrides, code, field):
    token = await token_for("admin")
    before = await counts(db)
    data = await api.data(PRODUCT_CREATE, {"input": product_input(world, **overrides)}, token)
    assert_user_error(data["productCreate"], code, field, "product")
    assert await counts(db) == before


async def test_a_price_beyond_32_bits_is_stored_and_read_exactly(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": product_input(world, price={"amount": 10**10})}  # ¥100,000,000.00
    product = (await api.data(PRODUCT_CREATE, variables, token))["productCreate"]["product"]
    assert product["price"] == {"amount": 10**10, "currency": "CNY"}
    assert (await product_row(db, "CREAM-01"))["price_amount"] == 10**10


@pytest.mark.parametrize("amount", [1.5, "45000", True, 2**53, -(2**53), 10**30])
async def test_a_money_amount_that_is_not_a_safe_whole_number_is_refused(api, world, token_for, db, amount):
    token = await token_for("admin")
    before = await counts(db)
    body = await api(PRODUCT_CREATE, {"input": product_input(world, price={"amount": amount})}, token)
    assert "data" not in body or body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert await counts(db) == before


@pytest.mark.parametrize("literal", ["1.5", '"45000"', "true", "9007199254740992", "1e30"])
async def test_a_money_amount_literal_is_checked_the_same_way(api, world, token_for, db, literal):
    token = await token_for("admin")
    category = world.gid("ProductCategory", "skincare")
    document = f"""mutation {{ productCreate(input: {{sku: "CREAM-01", name: "面霜", categoryId: "{category}",
      price: {{amount: {literal}}}}}) {{ product {{ id }} errors {{ code }} }} }}"""
    body = await api(document, {}, token)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert await count_rows(db, "product") == 2


@pytest.mark.parametrize("username", ["analyst", "ops", "sh.manager", "sh.guide"])
async def test_product_create_needs_hq_admin(api, world, token_for, db, username):
    before = await counts(db)
    await assert_forbidden(api, PRODUCT_CREATE, {"input": product_input(world)}, await token_for(username))
    assert await counts(db) == before


async def test_product_create_same_idempotency_key_returns_same_product(api, world, token_for, db):
    token = await token_for("admin")
    variables = {"input": product_input(world, idempotencyKey="p-1")}
    first = (await api.data(PRODUCT_CREATE, variables, token))["productCreate"]
    second = (await api.data(PRODUCT_CREATE, variables, token))["productCreate"]
    assert first["errors"] == [] and second == first
    assert len(await fetch(db, Product, sku="CREAM-01")) == 1
    assert await count_rows(db, "product") == 3


async def test_product_create_idempotency_key_reused_with_other_input(api, world, token_for, db):
    token = await token_for("admin")
    await api.data(PRODUCT_CREATE, {"input": product_input(world, idempotencyKey="p-1")}, token)
    before = await counts(db)
    variables = {"input": product_input(world, price={"amount": 1}, idempotencyKey="p-1")}
    assert_user_error(
        (await api.data(PRODUCT_CREATE, variables, token))["productCreate"],
        "IDEMPOTENCY_KEY_REUSED",
        ["input", "idempotencyKey"],
        "product",
    )
    assert await counts(db) == before
    assert (await product_row(db, "CREAM-01"))["price_amount"] == 45000


# productUpdate -------------------------------------------------------------------------------


async def test_product_update_changes_given_fields_only(api, world, token_for, db):
    token = await token_for("admin")
    variables = {
        "input": {
            "id": world.gid("Product", "serum"),
            "name": "精华液",
            "categoryId": world.gid("ProductCategory", "makeup"),
            "price": {"amount": 99000},
            "active": False,
        }
    }
    payload = (await api.data(PRODUCT_UPDATE, variables, token))["productUpdate"]
    assert payload["errors"] == []
    assert payload["product"] == {
        "id": world.gid("Product", "serum"),
        "sku": "SERUM-01",
        "name": "精华液",
        "description": "",
        "price": {"amount": 99000, "currency": "CNY"},
        "active": False,
        "category": {"code": "MAKEUP"},
    }
    row = await product_row(db, "SERUM-01")
    assert (row["name"], row["category_id"], row["price_amount"], row["currency"], row["active"]) == (
        "精华液",
        world.ids["makeup"],
        99000,
        "CNY",
        False,
    )


async def test_product_update_description_only(api, world, token_for, db):
    token = await token_for("admin")
    before = await product_row(db, "LIP-01")
    variables = {"input": {"id": world.gid("Product", "lipstick"), "description": "  丝绒哑光 "}}
    assert (await api.data(PRODUCT_UPDATE, variables, token))["productUpdate"]["errors"] == []
    after = await product_row(db, "LIP-01")
    assert after["description"] == "丝绒哑光"
    assert {k: after[k] for k in ("name", "price_amount", "category_id", "active")} == {
        k: before[k] for k in ("name", "price_amount", "category_id", "active")
    }


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        pytest.param({"name": ""}, "REQUIRED", ["input", "name"], id="name-empty"),
        pytest.param({"name": "n" * 101}, "TOO_LONG", ["input", "name"], id="name-too-long"),
        pytest.param({"description": "d" * 2001}, "TOO_LONG", ["input", "description"], id="description-too-long"),
        pytest.param(
            {"price": {"amount": 100, "currency": "EUR"}},
            "INVALID_CURRENCY",
            ["input", "price", "currency"],
            id="currency-eur",
        ),
        pytest.param({"price": {"amount": -100}}, "OUT_OF_RANGE", ["input", "price", "amount"], id="price-negative"),
        pytest.param(
            {"categoryId": gid("ProductCategory", 999999)}, "NOT_FOUND", ["input", "categoryId"], id="category-unknown"
        ),
    ],
)
async def test_product_update_rejects_bad_input_and_writes_nothing(api, world, token_for, db, changes, code, field):
    token = await token_for("admin")
    before, row_before = await counts(db), await product_row(db, "SERUM-01")
    data = await api.data(PRODUCT_UPDATE, {"input": {"id": world.gid("Product", "serum"), **changes}}, token)
    assert_user_error(data["productUpdate"], code, field, "product")
    assert await counts(db) == before
    assert await product_row(db, "SERUM-01") == row_before


@pytest.mark.parametrize(
    "product_id", [gid("Product", 999999), gid("ProductCategory", 1)], ids=["missing", "other-type"]
)
async def test_product_update_unknown_id_is_not_found(api, world, token_for, db, product_id):
    token = await token_for("admin")
    before = await counts(db)
    data = await api.data(PRODUCT_UPDATE, {"input": {"id": product_id, "name": "不存在"}}, token)
    assert_user_error(data["productUpdate"], "NOT_FOUND", ["input", "id"], "product")
    assert await counts(db) == before


@pytest.mark.parametrize("username", ["analyst", "ops", "sh.manager"])
async def test_product_update_needs_hq_admin(api, world, token_for, db, username):
    row_before = await product_row(db, "SERUM-01")
    variables = {"input": {"id": world.gid("Product", "serum"), "price": {"amount": 1}}}
    await assert_forbidden(api, PRODUCT_UPDATE, variables, await token_for(username))
    assert await product_row(db, "SERUM-01") == row_before


# queries -------------------------------------------------------------------------------------


async def test_products_filter_by_category_and_active(api, world, token_for):
    admin = await token_for("admin")
    await api.data(PRODUCT_CREATE, {"input": product_input(world, active=False)}, admin)
    token = await token_for("sh.guide")

    async def skus(**filters):
        data = (await api.data(PRODUCTS, filters, token))["products"]
        assert data["totalCount"] == len(data["edges"])
        return [edge["node"]["sku"] for edge in data["edges"]]

    assert await skus() == ["SERUM-01", "LIP-01", "CREAM-01"]
    assert await skus(categoryId=world.gid("ProductCategory", "skincare")) == ["SERUM-01", "CREAM-01"]
    assert await skus(categoryId=world.gid("ProductCategory", "makeup")) == ["LIP-01"]
    assert await skus(categoryId=world.gid("ProductCategory", "skincare"), active=True) == ["SERUM-01"]
    assert await skus(active=False) == ["CREAM-01"]
    assert await skus(categoryId=gid("ProductCategory", 999999)) == []


async def test_categories_and_services_listings(api, world, token_for):
    token = await token_for("sh.guide")
    data = await api.data(
        "{ productCategories { edges { node { code name } } } services { edges { node { code durationMinutes } } } }",
        token=token,
    )
    assert [e["node"]["code"] for e in data["productCategories"]["edges"]] == ["SKINCARE", "MAKEUP"]
    assert data["services"]["edges"] == [{"node": {"code": "MAKEUP_TRIAL", "durationMinutes": 45}}]
