"""REST calls to auth-service and chat-service, with the session refreshed as needed."""

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from chat_cli.config import Settings
from chat_cli.errors import (
    BadCredentials,
    CliError,
    NotLoggedIn,
    ServerDown,
    SessionExpired,
    UnknownUser,
)
from chat_cli.models import Chat, ChatList, Message, MessagePage, TokenPair, User, UserPage
from chat_cli.session import Session, SessionStore

# Refresh a little before expiry, so a token does not die between check and use.
REFRESH_MARGIN_SECONDS = 30.0


def _detail(response: httpx.Response) -> str:
    """The service's error message, as one line."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list) and detail:
        # FastAPI's validation errors: the first one says enough.
        first = detail[0]
        where = ".".join(str(part) for part in first.get("loc", [])[1:])
        return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
    return str(detail) if detail else response.reason_phrase


class ChatApi:
    """One client for both services; authenticated calls use and refresh the stored session."""

    def __init__(
        self,
        settings: Settings,
        store: SessionStore,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.http = httpx.Client(timeout=settings.HTTP_TIMEOUT_SECONDS, transport=transport)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "ChatApi":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------

    def _send(self, service: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        base = self.settings.AUTH_URL if service == "auth-service" else self.settings.CHAT_URL
        try:
            response = self.http.request(method, base.rstrip("/") + url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
            raise ServerDown(service, base) from exc
        except httpx.TimeoutException as exc:
            raise CliError(f"{service} at {base} did not answer in time") from exc
        if response.status_code in (502, 503, 504):
            raise CliError(f"{service} is unavailable right now: {_detail(response)}")
        return response

    def _authed(self, service: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        session = self.current_session()
        response = self._send(service, method, url, headers=self._bearer(session), **kwargs)
        if response.status_code == 401:
            # The token may have been refused early (clock skew, key rotation): refresh once.
            session = self._refresh(session, force=True)
            response = self._send(service, method, url, headers=self._bearer(session), **kwargs)
            if response.status_code == 401:
                raise SessionExpired()
        return response

    def _with_refresh_token(self, path: str, session: Session) -> httpx.Response:
        """POST the session's refresh token to the auth service (refresh, logout)."""
        body = {"refresh_token": session.refresh_token}
        return self._send("auth-service", "POST", path, json=body)

    @staticmethod
    def _bearer(session: Session) -> dict[str, str]:
        return {"Authorization": f"Bearer {session.access_token}"}

    @staticmethod
    def _fail(response: httpx.Response, what: str) -> CliError:
        return CliError(f"{what} failed: {_detail(response)} (HTTP {response.status_code})")

    def _in_chat(
        self, chat_id: str, method: str, path: str, expected: int, what: str, **kwargs: Any
    ) -> httpx.Response:
        """A call under `/chat/{chat_id}`; 404 (no such chat, or not a member) said plainly."""
        response = self._authed("chat-service", method, f"/chat/{chat_id}{path}", **kwargs)
        if response.status_code == 404:
            raise CliError(f"no such chat (or you are not in it): {chat_id}")
        if response.status_code != expected:
            raise self._fail(response, what)
        return response

    def current_session(self) -> Session:
        """The stored session, refreshed first when its access token is about to expire."""
        session = self.store.load()
        if session is None:
            raise NotLoggedIn()
        if session.expires_within(REFRESH_MARGIN_SECONDS, self.clock()):
            session = self._refresh(session, force=False)
        return session

    def _refresh(self, seen: Session, *, force: bool) -> Session:
        with self.store.locked():
            # Another `chat` process may have refreshed meanwhile: use its tokens.
            on_disk = self.store.load()
            if on_disk is None:
                raise NotLoggedIn()
            if on_disk.refresh_token != seen.refresh_token:
                return on_disk
            if not force and not on_disk.expires_within(REFRESH_MARGIN_SECONDS, self.clock()):
                return on_disk
            response = self._with_refresh_token("/auth/refresh", on_disk)
            if response.status_code == 401:
                self.store.clear()
                raise SessionExpired()
            if response.status_code != 200:
                raise self._fail(response, "refreshing the session")
            session = self._session(on_disk.user_id, on_disk.username, response)
            self.store.save(session)
            return session

    def _session(self, user_id: str, username: str, response: httpx.Response) -> Session:
        pair = TokenPair.model_validate(response.json())
        return Session(
            user_id=user_id,
            username=username,
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            access_expires_at=self.clock() + pair.expires_in,
        )

    # -- accounts ------------------------------------------------------------------

    def register(self, username: str, password: str, display_name: str | None) -> User:
        body: dict[str, str] = {"username": username, "password": password}
        if display_name:
            body["display_name"] = display_name
        response = self._send("auth-service", "POST", "/auth/register", json=body)
        if response.status_code == 409:
            raise CliError(f"username {username!r} is already taken")
        if response.status_code != 201:
            raise self._fail(response, "registering")
        return User.model_validate(response.json())

    def login(self, username: str, password: str) -> Session:
        """Log in and store the session (replacing any earlier one)."""
        response = self._send(
            "auth-service",
            "POST",
            "/auth/login",
            json={"username": username, "password": password},
        )
        if response.status_code in (401, 422):
            raise BadCredentials()
        if response.status_code != 200:
            raise self._fail(response, "logging in")
        pair = TokenPair.model_validate(response.json())
        me = self._send(
            "auth-service",
            "GET",
            "/users/me",
            headers={"Authorization": f"Bearer {pair.access_token}"},
        )
        if me.status_code != 200:
            raise self._fail(me, "reading your account")
        user = User.model_validate(me.json())
        session = self._session(user.id, user.username, response)
        with self.store.locked():
            self.store.save(session)
        return session

    def logout(self) -> bool:
        """End the session on the server, then forget it here; False if there was none.

        The server revokes the refresh token and every token rotated from the same login,
        so a copy of the session file is useless afterwards. A token the server already
        refuses is forgotten too; if the server cannot be reached the session is kept (and
        the error raised), so that `chat logout` can be run again.
        """
        with self.store.locked():
            session = self.store.load()
            if session is None:
                return False
            response = self._with_refresh_token("/auth/logout", session)
            if response.status_code not in (204, 401):
                raise self._fail(response, "logging out")
            self.store.clear()
        return True

    def search_users(self, prefix: str, limit: int = 20) -> list[User]:
        response = self._authed(
            "auth-service", "GET", "/users", params={"q": prefix, "limit": limit}
        )
        if response.status_code != 200:
            raise self._fail(response, "searching users")
        return UserPage.model_validate(response.json()).items

    def user(self, user_id: str) -> User:
        response = self._authed("auth-service", "GET", f"/users/{user_id}")
        if response.status_code == 404:
            raise UnknownUser(user_id)
        if response.status_code != 200:
            raise self._fail(response, "reading a user")
        return User.model_validate(response.json())

    def find_user(self, username: str) -> User:
        """The user with exactly this username (case-insensitive)."""
        for user in self.search_users(username, limit=100):
            if user.username.lower() == username.lower():
                return user
        raise UnknownUser(username)

    # -- chats ---------------------------------------------------------------------

    def open_chat(self, user_id: str) -> Chat:
        """The chat with this user, started on first use."""
        response = self._authed("chat-service", "POST", "/chats", json={"user_id": user_id})
        if response.status_code == 404:
            raise UnknownUser(user_id)
        if response.status_code == 422:
            raise CliError(f"cannot open that chat: {_detail(response)}")
        if response.status_code not in (200, 201):
            raise self._fail(response, "opening the chat")
        return Chat.model_validate(response.json())

    def chats(self, limit: int = 100) -> list[Chat]:
        """Every chat of the caller, most recent activity first (page after page)."""
        chats: list[Chat] = []
        params: dict[str, str | int] = {"limit": limit}
        while True:
            response = self._authed("chat-service", "GET", "/chats", params=params)
            if response.status_code != 200:
                raise self._fail(response, "listing chats")
            page = ChatList.model_validate(response.json())
            chats += page.items
            if not page.next_cursor:
                return chats
            params["cursor"] = page.next_cursor

    def mark_read(self, chat_id: str, up_to: str) -> None:
        """Move the caller's read mark forward to message `up_to` (never back)."""
        body = {"up_to": up_to}
        response = self._authed("chat-service", "POST", f"/chat/{chat_id}/read", json=body)
        if response.status_code != 204:
            raise self._fail(response, "marking messages read")

    def resolve_chat(self, chat: str) -> Chat | str:
        """A chat id as given, or the chat with the user of that name."""
        try:
            return str(uuid.UUID(chat))
        except ValueError:
            return self.open_chat(self.find_user(chat).id)

    def send(self, chat_id: str, text: str, client_message_id: str | None = None) -> Message:
        body: dict[str, str] = {"text": text}
        if client_message_id:
            body["client_message_id"] = client_message_id
        response = self._in_chat(chat_id, "POST", "/messages", 201, "sending", json=body)
        return Message.model_validate(response.json())

    def history(self, chat_id: str, before: str | None = None, quantity: int = 10) -> MessagePage:
        params: dict[str, str | int] = {"quantity": quantity}
        if before:
            params["time"] = before
        response = self._in_chat(chat_id, "GET", "", 200, "reading history", params=params)
        return MessagePage.model_validate(response.json())

    # -- safety ----------------------------------------------------------------------

    def block(self, user_id: str, *, blocked: bool = True) -> None:
        """Block (or unblock) a user: their sends into your chat are refused."""
        method = "PUT" if blocked else "DELETE"
        response = self._authed("chat-service", method, f"/blocks/{user_id}")
        if response.status_code != 204:
            raise self._fail(response, "blocking" if blocked else "unblocking")

    def blocks(self) -> list[str]:
        """The ids of the users you blocked."""
        response = self._authed("chat-service", "GET", "/blocks")
        if response.status_code != 200:
            raise self._fail(response, "listing blocks")
        return [str(item["user_id"]) for item in response.json()["items"]]

    def report(self, chat_id: str, message_id: str, reason: str) -> None:
        """Report a message of a chat of yours to the moderators."""
        path = f"/messages/{message_id}/report"
        self._in_chat(chat_id, "POST", path, 202, "reporting", json={"reason": reason})
