"""The client's session handling, against an in-process fake of the two services' HTTP."""

import json
from pathlib import Path

import httpx
import pytest

from chat_cli.api import ChatApi
from chat_cli.config import Settings
from chat_cli.errors import BadCredentials, NotLoggedIn, ServerDown, SessionExpired, UnknownUser
from chat_cli.session import Session, SessionStore

NOW = 10_000.0


class FakeServices:
    """Just enough of auth-service and chat-service: tokens `a<n>` / `r<n>`."""

    def __init__(self) -> None:
        self.generation = 1
        self.refreshes = 0
        self.reject_next_access = False
        self.down = False
        self.logged_out: list[str] = []

    def pair(self) -> dict[str, object]:
        return {
            "access_token": f"a{self.generation}",
            "token_type": "bearer",
            "expires_in": 900,
            "refresh_token": f"r{self.generation}",
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path
        if path == "/auth/login":
            body = json.loads(request.content)
            if body["password"] != "right-password":
                return httpx.Response(401, json={"detail": "Incorrect username or password"})
            return httpx.Response(200, json=self.pair())
        if path == "/auth/logout":
            token = json.loads(request.content)["refresh_token"]
            if token != f"r{self.generation}" or token in self.logged_out:
                return httpx.Response(401, json={"detail": "revoked"})
            self.logged_out.append(token)
            return httpx.Response(204)
        if path == "/auth/refresh":
            self.refreshes += 1
            token = json.loads(request.content)["refresh_token"]
            if token != f"r{self.generation}" or token in self.logged_out:
                return httpx.Response(401, json={"detail": "revoked"})
            self.generation += 1
            return httpx.Response(200, json=self.pair())
        if request.headers.get("Authorization") != f"Bearer a{self.generation}" or (
            self.reject_next_access
        ):
            self.reject_next_access = False
            return httpx.Response(401, json={"detail": "Invalid access token"})
        if path == "/users/me":
            return httpx.Response(200, json={"id": "u1", "username": "alice"})
        if path == "/users":
            return httpx.Response(
                200,
                json={
                    "items": [{"id": "u2", "username": "Bob", "display_name": None}],
                    "next_cursor": None,
                },
            )
        return httpx.Response(404, json={"detail": "not found"})


@pytest.fixture
def fake() -> FakeServices:
    return FakeServices()


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path)


def make_api(fake: FakeServices, store: SessionStore, now: float = NOW) -> ChatApi:
    return ChatApi(Settings(), store, clock=lambda: now, transport=httpx.MockTransport(fake))


def test_login_stores_the_session(fake: FakeServices, store: SessionStore) -> None:
    session = make_api(fake, store).login("alice", "right-password")
    assert store.load() == session
    assert session.username == "alice"
    assert session.access_expires_at == NOW + 900


def test_bad_password_is_one_clear_error(fake: FakeServices, store: SessionStore) -> None:
    with pytest.raises(BadCredentials, match="incorrect username or password"):
        make_api(fake, store).login("alice", "wrong")
    assert store.load() is None


def test_no_session_means_not_logged_in(fake: FakeServices, store: SessionStore) -> None:
    with pytest.raises(NotLoggedIn):
        make_api(fake, store).search_users("b")


def test_an_expiring_token_is_refreshed_before_the_call(
    fake: FakeServices, store: SessionStore
) -> None:
    make_api(fake, store).login("alice", "right-password")
    later = make_api(fake, store, now=NOW + 890)  # 10 s left: inside the margin
    assert [u.username for u in later.search_users("b")] == ["Bob"]
    assert fake.refreshes == 1
    saved = store.load()
    assert saved is not None and saved.refresh_token == "r2"


def test_a_refused_token_is_refreshed_once_and_the_call_retried(
    fake: FakeServices, store: SessionStore
) -> None:
    api = make_api(fake, store)
    api.login("alice", "right-password")
    fake.reject_next_access = True
    assert api.find_user("bob").id == "u2"
    assert fake.refreshes == 1


def test_tokens_refreshed_by_another_process_are_used_not_spent_again(
    fake: FakeServices, store: SessionStore
) -> None:
    make_api(fake, store).login("alice", "right-password")
    stale = store.load()
    assert stale is not None
    make_api(fake, store, now=NOW + 890).search_users("")  # the other process refreshes
    # This process still holds r1; it must pick up r2 from disk rather than reuse r1.
    api = make_api(fake, store, now=NOW + 890)
    assert api._refresh(stale, force=True).refresh_token == "r2"
    assert fake.refreshes == 1


def test_a_revoked_refresh_token_ends_the_session(fake: FakeServices, store: SessionStore) -> None:
    make_api(fake, store).login("alice", "right-password")
    store.save(Session("u1", "alice", "a1", "r-revoked", NOW))
    with pytest.raises(SessionExpired):
        make_api(fake, store).search_users("")
    assert store.load() is None


def test_unknown_user(fake: FakeServices, store: SessionStore) -> None:
    api = make_api(fake, store)
    api.login("alice", "right-password")
    with pytest.raises(UnknownUser, match="unknown user: carol"):
        api.find_user("carol")


def test_server_down_names_the_service_and_url(fake: FakeServices, store: SessionStore) -> None:
    fake.down = True
    with pytest.raises(ServerDown, match=r"auth-service is not reachable at http://127\.0\.0\.1"):
        make_api(fake, store).login("alice", "right-password")


def test_logout_ends_the_session_on_the_server_then_forgets_it(
    fake: FakeServices, store: SessionStore
) -> None:
    make_api(fake, store).login("alice", "right-password")
    assert make_api(fake, store).logout() is True
    assert fake.logged_out == ["r1"]
    assert store.load() is None
    # A copy of the session file kept elsewhere is now useless.
    store.save(Session("u1", "alice", "a1", "r1", NOW))
    with pytest.raises(SessionExpired):
        make_api(fake, store, now=NOW + 890).search_users("")


def test_logout_forgets_a_session_the_server_already_refuses(
    fake: FakeServices, store: SessionStore
) -> None:
    store.save(Session("u1", "alice", "a1", "r-revoked", NOW))
    assert make_api(fake, store).logout() is True
    assert store.load() is None


def test_logout_keeps_the_session_when_the_server_is_down(
    fake: FakeServices, store: SessionStore
) -> None:
    session = make_api(fake, store).login("alice", "right-password")
    fake.down = True
    with pytest.raises(ServerDown):
        make_api(fake, store).logout()
    assert store.load() == session  # kept, so that logging out can be retried


def test_logout_without_a_session_calls_nothing(fake: FakeServices, store: SessionStore) -> None:
    assert make_api(fake, store).logout() is False
    assert fake.logged_out == []
