"""The 429 limits: failed logins per (username, client address) and per client address,
registrations per client address.

Counted in Postgres (`rate_limit_counter`) in fixed windows, so every replica shares the
same counts. Failed logins are checked before any Argon2 work, so a throttled guesser
costs one indexed read, not a hash.
"""

import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from auth_service.config import Settings
from auth_service.exceptions import TooManyAttempts
from auth_service.metrics import THROTTLED
from auth_service.repository import AuthRepository, UnitOfWork


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Window:
    """The fixed window a moment falls in."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, now: datetime, seconds: int) -> "Window":
        start = int(now.timestamp()) // seconds * seconds
        begin = datetime.fromtimestamp(start, UTC)
        return cls(begin, begin + timedelta(seconds=seconds))

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the window ends (at least 1), for Retry-After."""
        return max(1, math.ceil((self.end - now).total_seconds()))


def client_address(peer: str | None, forwarded_for: str | None, trust_forwarded: bool) -> str:
    """The address limits are counted under: the TCP peer, or with `trust_forwarded` the
    last X-Forwarded-For entry (the one our own proxy appended; earlier ones are the
    client's to invent). Anything that is not an IP address falls back to the peer."""
    if trust_forwarded and forwarded_for:
        last = forwarded_for.rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(last))
        except ValueError:
            pass
    return peer or "unknown"


def failed_login_keys(username: str, address: str) -> tuple[str, str]:
    """(per username and address, per address); usernames are case-insensitive."""
    return f"login-failure:{username.lower()}|{address}", f"login-failure:{address}"


def registration_key(address: str) -> str:
    return f"register:{address}"


@dataclass(eq=False)
class Throttle:
    """Counts attempts and refuses those over a limit with TooManyAttempts (429): at most
    the settings' limits in each fixed window of RATE_LIMIT_WINDOW_SECONDS."""

    repository: AuthRepository
    settings: Settings
    clock: Callable[[], datetime] = _utc_now
    _purged: datetime | None = field(init=False, default=None)

    def _window(self) -> tuple[datetime, Window]:
        now = self.clock()
        return now, Window.of(now, self.settings.RATE_LIMIT_WINDOW_SECONDS)

    async def check_login(self, username: str, address: str) -> bool:
        """Refuse a login attempt once either failed-login limit is reached; else whether
        this username has failures from this address to forgive after a success."""
        now, window = self._window()
        user_key, address_key = failed_login_keys(username, address)
        async with self.repository.read() as store:
            counts = await store.attempt_counts((user_key, address_key), window.start)
        if (
            counts.get(user_key, 0) >= self.settings.LOGIN_FAILURES_PER_USER_ADDRESS
            or counts.get(address_key, 0) >= self.settings.LOGIN_FAILURES_PER_ADDRESS
        ):
            THROTTLED.labels("login").inc()
            raise TooManyAttempts(window.retry_after(now))
        return counts.get(user_key, 0) > 0

    async def login_failed(self, username: str, address: str) -> None:
        _, window = self._window()
        async with self.repository.transaction() as store:
            for key in failed_login_keys(username, address):
                await store.count_attempt(key, window.start)
            await self._purge(store, window)

    async def login_succeeded(self, username: str, address: str) -> None:
        """The user proved the password: their typos from this address are forgiven."""
        user_key, _ = failed_login_keys(username, address)
        async with self.repository.transaction() as store:
            await store.clear_attempts(user_key)

    async def count_registration(self, address: str) -> None:
        """Count a registration attempt; refuse it when over the limit."""
        now, window = self._window()
        async with self.repository.transaction() as store:
            hits = await store.count_attempt(registration_key(address), window.start)
            await self._purge(store, window)
        if hits > self.settings.REGISTRATIONS_PER_ADDRESS:
            THROTTLED.labels("register").inc()
            raise TooManyAttempts(window.retry_after(now))

    async def _purge(self, store: UnitOfWork, window: Window) -> None:
        # Once per window and process: counters of windows before the current one are dead.
        if self._purged != window.start:
            self._purged = window.start
            await store.purge_attempts_before(window.start)
