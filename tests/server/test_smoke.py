from tests.world import login


async def test_login_and_me(api, world):
    token = await login(api, "admin")
    data = await api.data("{ me { displayName ... on StaffUser { role } } }", token=token)
    assert data["me"] == {"displayName": "Admin", "role": "HQ_ADMIN"}
