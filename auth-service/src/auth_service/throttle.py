"""The 429 limits: login attempts per (username, client address) and per client address,
with a per-account backoff across addresses; registrations per client address; Firebase
custom tokens per user.

Counted in Postgres (`rate_limit_counter`) per fixed window, so every replica shares the
same counts, and limited by the sliding-window estimate over them: this window's count plus
the previous window's, weighted by how much of it the last window-length still covers. A
plain fixed window would let twice the limit through around a boundary (the limit just
before it, the limit again just after).

A login attempt is counted before any Argon2 work, atomically (an upsert returning the
new count, and a row lock on the account's backoff), and refused once over (and then not
counted): however many arrive at once, at most the limit reach a hash. A success takes its
count back. The
account's backoff lets LOGIN_FAILURES_PER_ACCOUNT attempts through from anywhere, then
one attempt per LOGIN_BACKOFF_BASE_SECONDS doubling up to LOGIN_BACKOFF_MAX_SECONDS.
"""

import math
import uuid
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

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def previous_start(self) -> datetime:
        return self.start - (self.end - self.start)

    def estimate(self, now: datetime, current: int, previous: int) -> float:
        """Attempts within the last window-length before `now`: this window's, plus the
        previous window's taken as spread evenly over it, for the part still covered."""
        covered = 1 - (now - self.start).total_seconds() / self.seconds
        return current + previous * covered

    def retry_after(self, now: datetime, limit: int, current: int, previous: int) -> int:
        """Whole seconds (at least 1) until the estimate is below `limit` again, for
        Retry-After, if no attempt comes before."""
        if current >= limit:
            # Not in this window: in the next, this window's count is the weighted one.
            wait = (self.end - now).total_seconds() + self.seconds * (1 - limit / current)
        else:
            # Later in this window, once less of the previous one is covered.
            elapsed = 1 - (limit - current) / previous
            wait = elapsed * self.seconds - (now - self.start).total_seconds()
        # Strictly after the moment the estimate reaches the limit; never 0 ("retry now").
        return max(1, math.floor(wait) + 1)


@dataclass(frozen=True)
class Counts:
    """Attempts per key in a window and the one before it."""

    window: Window
    hits: dict[tuple[str, datetime], int]

    def of(self, key: str) -> tuple[int, int]:
        """(in this window, in the previous one)."""
        return (
            self.hits.get((key, self.window.start), 0),
            self.hits.get((key, self.window.previous_start), 0),
        )

    def over(self, key: str, limit: int, now: datetime) -> int | None:
        """Retry-After seconds when `key` has reached `limit`; None while it has not."""
        current, previous = self.of(key)
        if self.window.estimate(now, current, previous) < limit:
            return None
        return self.window.retry_after(now, limit, current, previous)


def failed_login_keys(username: str, address: str) -> tuple[str, str]:
    """(per username and address, per address); usernames are case-insensitive."""
    return f"login-failure:{username.lower()}|{address}", f"login-failure:{address}"


def backoff_seconds(failures: int, free: int, base: float, most: float) -> float:
    """How long the attempt after the `failures`-th must wait: nothing before `free`, then
    `base` doubling with each further one, at most `most`."""
    if failures < free:
        return 0.0
    return float(min(most, base * 2 ** min(failures - free, 32)))


@dataclass(frozen=True)
class LoginAttempt:
    """A login attempt counted by `Throttle.begin_login`, to take back if it succeeds."""

    username: str
    address: str
    window_start: datetime


def registration_key(address: str) -> str:
    return f"register:{address}"


def firebase_token_key(user_id: uuid.UUID) -> str:
    return f"firebase-token:{user_id}"


@dataclass(eq=False)
class Throttle:
    """Counts attempts per fixed window of RATE_LIMIT_WINDOW_SECONDS and refuses those that
    would take the sliding-window estimate over the settings' limits (TooManyAttempts, 429)."""

    repository: AuthRepository
    settings: Settings
    clock: Callable[[], datetime] = _utc_now
    _purged: datetime | None = field(init=False, default=None)

    def _window(self) -> tuple[datetime, Window]:
        now = self.clock()
        return now, Window.of(now, self.settings.RATE_LIMIT_WINDOW_SECONDS)

    @staticmethod
    async def _counts(store: UnitOfWork, keys: tuple[str, ...], window: Window) -> Counts:
        hits = await store.attempt_counts(keys, (window.start, window.previous_start))
        return Counts(window, hits)

    async def begin_login(self, username: str, address: str) -> LoginAttempt:
        """Count a login attempt, before any password work; refuse it (TooManyAttempts)
        once it takes either counter over its limit, or the account is in backoff."""
        now, window = self._window()
        user_key, address_key = failed_login_keys(username, address)
        settings = self.settings
        wait: float | None = None
        # One transaction: the upserts lock the counters' rows, so concurrent attempts are
        # counted one after the other; a refusal is raised once it has committed.
        async with self.repository.transaction() as store:
            for key in (user_key, address_key):
                await store.count_attempt(key, window.start)
            counts = await self._counts(store, (user_key, address_key), window)
            await self._purge(store, window)
            # Over the limit counting this attempt: at the limit without it.
            retry_after = counts.over(
                user_key, settings.LOGIN_FAILURES_PER_USER_ADDRESS + 1, now
            ) or counts.over(address_key, settings.LOGIN_FAILURES_PER_ADDRESS + 1, now)
            if retry_after is not None:
                # Refused: not counted after all, so hammering a closed door neither pushes
                # Retry-After past the window nor locks others at a shared address out longer.
                for key in (user_key, address_key):
                    await store.take_back_attempt(key, window.start)
            else:
                wait = await store.claim_login(
                    username.lower(),
                    now,
                    forget_before=now - timedelta(seconds=settings.RATE_LIMIT_WINDOW_SECONDS),
                    delay=lambda failures: backoff_seconds(
                        failures,
                        settings.LOGIN_FAILURES_PER_ACCOUNT,
                        settings.LOGIN_BACKOFF_BASE_SECONDS,
                        settings.LOGIN_BACKOFF_MAX_SECONDS,
                    ),
                )
        if retry_after is not None:
            THROTTLED.labels("login").inc()
            raise TooManyAttempts(retry_after)
        if wait is not None:
            THROTTLED.labels("login_account").inc()
            raise TooManyAttempts(max(1, math.ceil(wait)))
        return LoginAttempt(username, address, window.start)

    async def login_succeeded(self, attempt: LoginAttempt) -> None:
        """The user proved the password: the attempt is taken back, their typos from this
        address and the account's backoff are forgiven."""
        user_key, address_key = failed_login_keys(attempt.username, attempt.address)
        # Rows in begin_login's order (user key, address key, account): no deadlock with it.
        async with self.repository.transaction() as store:
            await store.clear_attempts(user_key)
            await store.take_back_attempt(address_key, attempt.window_start)
            await store.forgive_login(attempt.username.lower())

    async def count_registration(self, address: str) -> None:
        """Count a registration attempt; refuse it when over the limit."""
        await self._count(
            registration_key(address), self.settings.REGISTRATIONS_PER_ADDRESS, "register"
        )

    async def count_firebase_token(self, user_id: uuid.UUID) -> None:
        """Count a Firebase custom token asked for by this user; refuse it when over."""
        await self._count(
            firebase_token_key(user_id), self.settings.FIREBASE_TOKENS_PER_USER, "firebase_token"
        )

    async def _count(self, key: str, limit: int, name: str) -> None:
        now, window = self._window()
        async with self.repository.transaction() as store:
            await store.count_attempt(key, window.start)
            counts = await self._counts(store, (key,), window)
            await self._purge(store, window)
        # Over the limit counting this attempt: at the limit without it.
        retry_after = counts.over(key, limit + 1, now)
        if retry_after is not None:
            THROTTLED.labels(name).inc()
            raise TooManyAttempts(retry_after)

    async def _purge(self, store: UnitOfWork, window: Window) -> None:
        # Once per window and process: counters of windows before the previous one are dead.
        if self._purged != window.start:
            self._purged = window.start
            await store.purge_attempts_before(window.previous_start)
