"""GraphQL over HTTP, one test per rule of server/api/http.py."""

from __future__ import annotations

import gc
import json

import pytest
from starlette.requests import Request

GQL = "application/graphql-response+json"
JSON = "application/json"
TYPENAME = "{ __typename }"


def media_type(response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


async def post_raw(api, content, accept: str = GQL, content_type: str = JSON, **headers):
    return await api.client.post(
        "/graphql", content=content, headers={"accept": accept, "content-type": content_type, **headers}
    )


async def post_json(api, body, accept: str = GQL, **headers):
    return await post_raw(api, json.dumps(body), accept, **headers)


def assert_request_error(response, status: int = 400, media: str = GQL) -> dict:
    assert response.status_code == status, response.text
    assert media_type(response) == media
    body = response.json()
    assert "data" not in body
    assert body["errors"] and all(e["message"] for e in body["errors"])
    return body


# --- media types ----------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [JSON, GQL])
async def test_answers_in_the_media_type_asked_for(api, accept):
    response = await post_json(api, {"query": TYPENAME}, accept=accept)
    assert response.status_code == 200
    assert media_type(response) == accept
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_graphql_response_json_preferred_by_q_value(api):
    response = await post_json(api, {"query": TYPENAME}, accept=f"{JSON};q=0.5, {GQL}")
    assert media_type(response) == GQL


async def test_no_accept_header_answers_application_json(api):
    request = api.client.build_request("POST", "/graphql", json={"query": TYPENAME})
    del request.headers["accept"]
    response = await api.client.send(request)
    assert response.status_code == 200
    assert media_type(response) == JSON
    assert response.json()["data"] == {"__typename": "Query"}


async def test_unsupported_accept_is_406(api):
    response = await post_json(api, {"query": TYPENAME}, accept="text/xml")
    assert response.status_code == 406
    assert "data" not in response.json()


# --- request errors under application/graphql-response+json -------------------------------------


async def test_invalid_json_body_is_400(api):
    assert_request_error(await post_raw(api, b"{not json"))


async def test_body_not_an_object_is_400(api):
    assert_request_error(await post_json(api, [{"query": TYPENAME}]))


@pytest.mark.parametrize(
    "body", [{}, {"query": 42}, {"query": ""}, {"query": None}], ids=["missing", "int", "empty", "null"]
)
async def test_missing_or_non_string_query_is_400(api, body):
    assert_request_error(await post_json(api, body))


async def test_non_string_operation_name_is_400(api):
    assert_request_error(await post_json(api, {"query": TYPENAME, "operationName": 7}))


@pytest.mark.parametrize("variables", [[1], "{}", 3])
async def test_variables_not_an_object_is_400(api, variables):
    assert_request_error(await post_json(api, {"query": TYPENAME, "variables": variables}))


@pytest.mark.parametrize("extensions", [[1], "{}", True])
async def test_extensions_not_an_object_is_400(api, extensions):
    assert_request_error(await post_json(api, {"query": TYPENAME, "extensions": extensions}))


async def test_document_parse_error_is_400(api):
    body = assert_request_error(await post_json(api, {"query": "{ __typename"}))
    assert "Syntax Error" in body["errors"][0]["message"]


async def test_validation_error_is_400(api):
    body = assert_request_error(await post_json(api, {"query": "{ noSuchField }"}))
    assert "noSuchField" in body["errors"][0]["message"]


async def test_variable_coercion_failure_is_400(api):
    query = "query Q($n: Int) { stores(first: $n) { totalCount } }"
    body = assert_request_error(await post_json(api, {"query": query, "variables": {"n": "two"}}))
    assert "$n" in body["errors"][0]["message"]


async def test_unknown_operation_name_is_400(api):
    body = assert_request_error(await post_json(api, {"query": "query A { __typename }", "operationName": "B"}))
    assert [error["message"] for error in body["errors"]] == ["no operation B in the document"]


async def test_several_operations_without_operation_name_is_400(api):
    query = "query A { __typename } query B { __typename }"
    body = assert_request_error(await post_json(api, {"query": query}))
    assert [error["message"] for error in body["errors"]] == [
        "Must provide operationName: the document has several operations."
    ]


async def test_operation_name_selects_the_operation(api):
    query = "query A { a: __typename } query B { b: __typename }"
    response = await post_json(api, {"query": query, "operationName": "B"})
    assert response.status_code == 200
    assert response.json() == {"data": {"b": "Query"}}


# --- request errors under application/json (legacy) ----------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ __typename"},
        {"query": "{ noSuchField }"},
        {"query": "query Q($n: Int) { stores(first: $n) { totalCount } }", "variables": {"n": "two"}},
    ],
    ids=["parse", "validation", "coercion"],
)
async def test_graphql_request_errors_under_json_are_200_without_data(api, body):
    assert_request_error(await post_json(api, body, accept=JSON), status=200, media=JSON)


@pytest.mark.parametrize("accept", [JSON, GQL])
async def test_malformed_json_body_is_400_under_both(api, accept):
    assert_request_error(await post_raw(api, b'{"query": ', accept=accept), media=accept)


@pytest.mark.parametrize("body", [{"query": 1}, {"query": TYPENAME, "variables": []}], ids=["query", "variables"])
async def test_bad_parameters_are_400_under_json_too(api, body):
    assert_request_error(await post_json(api, body, accept=JSON), media=JSON)


# --- GET ----------------------------------------------------------------------------------------


async def test_get_runs_a_query_with_json_encoded_variables(api):
    query = "query Q($skip: Boolean!) { a: __typename @skip(if: $skip) b: __typename }"
    response = await api.client.get(
        "/graphql", params={"query": query, "variables": json.dumps({"skip": True})}, headers={"accept": GQL}
    )
    assert response.status_code == 200, response.text
    assert media_type(response) == GQL
    assert response.json() == {"data": {"b": "Query"}}


async def test_get_with_malformed_variables_is_400(api):
    response = await api.client.get(
        "/graphql", params={"query": TYPENAME, "variables": "{oops"}, headers={"accept": GQL}
    )
    assert_request_error(response)


async def test_get_with_repeated_parameter_is_400(api):
    response = await api.client.get(
        "/graphql", params=[("query", TYPENAME), ("query", TYPENAME)], headers={"accept": GQL}
    )
    assert_request_error(response)


async def test_get_with_a_mutation_is_405_allow_post(api):
    response = await api.client.get("/graphql", params={"query": "mutation { __typename }"}, headers={"accept": GQL})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "data" not in response.json()


async def test_mutation_over_post_is_allowed(api):
    response = await post_json(api, {"query": "mutation { __typename }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Mutation"}}


# --- methods and content types -------------------------------------------------------------------


async def test_post_with_non_json_content_type_is_415(api):
    response = await post_raw(api, "query=%7B__typename%7D", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "data" not in response.json()


async def test_post_with_json_content_type_and_charset_is_accepted(api):
    response = await post_raw(api, json.dumps({"query": TYPENAME}), content_type="application/json; charset=utf-8")
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_put_is_405(api):
    response = await api.client.put("/graphql", json={"query": TYPENAME}, headers={"accept": GQL})
    assert response.status_code == 405


# --- execution errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [JSON, GQL])
async def test_field_error_during_execution_is_200_with_data(api, accept):
    response = await post_json(api, {"query": "{ me { displayName } }"}, accept=accept)
    assert response.status_code == 200
    assert media_type(response) == accept
    body = response.json()
    assert body["data"] == {"me": None}
    assert body["errors"][0]["path"] == ["me"]
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- request id ---------------------------------------------------------------------------------


async def test_response_carries_a_request_id(api):
    first = await post_json(api, {"query": TYPENAME})
    second = await post_json(api, {"query": TYPENAME})
    assert first.headers["x-request-id"] and second.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_request_errors_carry_a_request_id_too(api):
    response = await post_raw(api, b"{not json")
    assert response.headers["x-request-id"]


async def test_sane_incoming_request_id_is_echoed(api):
    response = await post_json(api, {"query": TYPENAME}, **{"x-request-id": "client-req-0001"})
    assert response.headers["x-request-id"] == "client-req-0001"


@pytest.mark.parametrize("given", ["short", "bad id with spaces!", "x" * 65])
async def test_insane_incoming_request_id_is_replaced(api, given):
    response = await post_json(api, {"query": TYPENAME}, **{"x-request-id": given})
    assert response.headers["x-request-id"] not in ("", given)


async def test_request_body_over_1_mb_is_413(api):
    query = "{ __typename }" + " " * 1_000_001
    response = await api.client.post(
        "/graphql", content=json.dumps({"query": query}), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "errors" in response.json() and "data" not in response.json()


async def test_query_over_100k_characters_is_413(api):
    query = "{ __typename }" + "#" * 100_001
    response = await api.client.post("/graphql", json={"query": query})
    assert response.status_code == 413


async def test_no_request_outlives_its_answer(api):
    """Nothing keeps a request (its scope, its body, its connection's objects) once it is answered: memory under a
    surge stays flat."""
    gc.collect()
    before = {id(each) for each in _requests_alive()}  # earlier tests' (a live server's, say)
    for _ in range(3):
        assert (await post_json(api, {"query": TYPENAME})).status_code == 200
        assert (await post_json(api, {"query": "{ nope }"})).status_code == 400
    gc.collect()
    assert [each for each in _requests_alive() if id(each) not in before] == []


def _requests_alive() -> list[Request]:
    # By type(), not isinstance(): isinstance asks an object's __class__, which a lazy proxy (Kivy's app proxy,
    # alive once the guide app's tests ran in this process) answers by trying to build what it stands for.
    return [each for each in gc.get_objects() if issubclass(type(each), Request)]


SERVER_SIDE = ("server.", "starlette.", "strawberry.", "graphql.", "sqlalchemy.", "sqlmodel.", "asyncpg.", "redis.")


@pytest.mark.parametrize(
    "query",
    ["{ __typename }", "{ me { displayName } }", "{ nope }", 'mutation { logout(refreshToken: "x") { revoked } }'],
    ids=["typename", "me", "invalid", "mutation"],
)
async def test_an_answered_operation_leaves_no_garbage_cycle(api, world, token_for, query):
    """What an operation made is freed as soon as it is answered, not at the garbage collector's next pass (a
    cycle in graphql-core's executor kept the request and all it held until then)."""
    token = await token_for("sh.guide")
    await api.post(query, token=token)  # first use: caches filled
    gc.collect()
    # Held until the end, so only what the requests made can end up as garbage: an earlier test's app, let go
    # meanwhile by a task of its own finishing late, is not this operation's cycle.
    older = gc.get_objects()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            await api.post(query, token=token)
        gc.collect()
        left = sorted({f"{kind.__module__}.{kind.__qualname__}" for kind in map(type, gc.garbage)})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
        del older
    assert [kind for kind in left if kind.startswith(SERVER_SIDE)] == []  # the test's client (httpx) makes cycles
