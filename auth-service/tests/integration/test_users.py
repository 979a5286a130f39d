"""GET /users, /users/me, /users/{id}: bearer required, prefix search, keyset pages."""

import uuid

import httpx
import pytest
from support import Login, Register, bearer, unique_name


@pytest.fixture
async def token(register: Register, login: Login) -> str:
    access: str = (await login((await register())["username"]))["access_token"]
    return access


async def test_me_and_by_id(client: httpx.AsyncClient, register: Register, login: Login) -> None:
    user = await register(display_name="Me Myself")
    access = (await login(user["username"]))["access_token"]
    me = await client.get("/users/me", headers=bearer(access))
    assert me.status_code == 200
    assert me.json() == user
    other = await register()
    by_id = await client.get(f"/users/{other['id']}", headers=bearer(access))
    assert by_id.status_code == 200
    assert by_id.json() == other


async def test_unknown_id_is_404(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get(f"/users/{uuid.uuid4()}", headers=bearer(token))
    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


async def test_bad_uuid_is_422(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get("/users/not-a-uuid", headers=bearer(token))
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/users", "/users/me", f"/users/{uuid.uuid4()}"])
@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic abc"])
async def test_bearer_required(client: httpx.AsyncClient, path: str, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = await client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_prefix_search_pages_with_cursor(
    client: httpx.AsyncClient, register: Register, token: str
) -> None:
    prefix = unique_name("pg")[:10]
    names = [f"{prefix}{suffix}" for suffix in ("e", "A", "c", "B", "d")]
    for name in names:
        await register(name)
    await register(unique_name("zz"))  # outside the prefix
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"q": prefix.upper(), "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/users", params=params, headers=bearer(token))
        assert response.status_code == 200
        body = response.json()
        assert len(body["items"]) <= 2
        assert all(set(item) == {"id", "username", "display_name"} for item in body["items"])
        seen += [item["username"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(names, key=str.lower)


async def test_underscore_and_dot_in_prefix_are_literal(
    client: httpx.AsyncClient, register: Register, token: str
) -> None:
    stem = unique_name("lit")[:10]
    await register(f"{stem}_x")
    await register(f"{stem}ax")  # would match if `_` were a LIKE wildcard
    response = await client.get("/users", params={"q": f"{stem}_"}, headers=bearer(token))
    assert [item["username"] for item in response.json()["items"]] == [f"{stem}_x"]


async def test_default_limit_is_20(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get("/users", headers=bearer(token))
    assert response.status_code == 200
    assert len(response.json()["items"]) <= 20


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"q": "x" * 33},
        {"q": "bad prefix!"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJ2IjoxLCJhZnRlciI6IiJ9"},  # well-formed base64, invalid content
        {"cursor": "c" * 600},
    ],
)
async def test_bad_query_is_422(
    client: httpx.AsyncClient, token: str, params: dict[str, object]
) -> None:
    response = await client.get("/users", params=params, headers=bearer(token))
    assert response.status_code == 422
    assert response.json()["detail"]
