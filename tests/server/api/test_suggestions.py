"""Without introspection (production), errors carry no "Did you mean …?" hints: they would reveal the schema."""

from __future__ import annotations

import pytest

GQL = "application/graphql-response+json"
# (document, variables, the name a hint would reveal): validation of the document, then coercion of variables.
GUESSES = {
    "mutation field": (
        'mutation { personErse(customerId: "Q3VzdG9tZXI6MQ==") { errors { code } } }',
        None,
        "personErase",
    ),
    "argument": ('{ stores(cty: "上海") { totalCount } }', None, "city"),
    "input field": (
        'mutation { bookingCreate(input: {storeId: "U3RvcmU6MQ==", slotStart: "2030-01-07T07:00:00Z",'
        ' nte: "x"}) { errors { code } } }',
        None,
        "note",
    ),
    "enum value": ("{ myBookings(status: CONFIRMD) { totalCount } }", None, "CONFIRMED"),
    "enum variable": (
        "query($s: BookingStatus) { myBookings(status: $s) { totalCount } }",
        {"s": "CONFIRMD"},
        "CONFIRMED",
    ),
    "input variable": (
        "mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { errors { code } } }",
        {"input": {"storeId": "U3RvcmU6MQ==", "slotStart": "2030-01-07T07:00:00Z", "nte": "x"}},
        "note",
    ),
}


async def answer(api, query: str, variables: dict | None) -> str:
    response = await api.client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers={"accept": GQL}
    )
    assert response.status_code == 400, response.text  # a request error: nothing ran
    return response.text


@pytest.mark.parametrize("case", list(GUESSES))
async def test_production_gives_no_hints(app_factory, case):
    query, variables, revealed = GUESSES[case]
    production = await app_factory(env="production", graphiql=False, introspection=None)
    text = await answer(production, query, variables)
    assert "Did you mean" not in text and f"'{revealed}'" not in text, text


@pytest.mark.parametrize("case", list(GUESSES))
async def test_development_keeps_the_hints(api, case):
    query, variables, revealed = GUESSES[case]
    text = await answer(api, query, variables)
    assert "Did you mean" in text and f"'{revealed}'" in text, text
