"""The rules of the auth service: registration, login, refresh rotation, logout, lookup."""

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from auth_service.config import Settings
from auth_service.exceptions import (
    InvalidCredentials,
    RefreshRejected,
    SessionRevoked,
    UsernameTaken,
    UserNotFound,
)
from auth_service.metrics import FAMILIES_REVOKED, LOGINS, LOGOUTS, REFRESHES, USERS_REGISTERED
from auth_service.orm import RefreshFamily, RefreshToken, UserAccount
from auth_service.pagination import decode_cursor, encode_cursor
from auth_service.repository import AuthRepository, UnitOfWork
from auth_service.security import (
    InvalidRefreshToken,
    Passwords,
    RefreshClaims,
    TokenSigner,
    hash_refresh_token,
)
from auth_service.throttle import Throttle
from auth_service.user_events import UserEventRelay
from auth_validator import Principal
from chat_common.contract.times import truncate_millis

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class AuthService:
    """Owns its transactions: each public method is one unit of work.

    Every path that rotates or revokes a refresh token first locks its family's row, so a
    revocation (reuse detection, logout, logout-all) and a rotation racing it are
    serialised: the rotation either finished before (and its new token is revoked with the
    family) or sees the family revoked and refuses.
    """

    repository: AuthRepository
    passwords: Passwords
    signer: TokenSigner
    throttle: Throttle
    # The token lifetimes: ACCESS_TOKEN_TTL_SECONDS, REFRESH_TOKEN_TTL_SECONDS, and
    # REFRESH_SESSION_LIFETIME_SECONDS (a refresh family's end, which no rotation extends).
    settings: Settings
    # Publishes the user-event outbox (logout-all queues `user.sessions_revoked` there).
    relay: UserEventRelay
    clock: Callable[[], datetime] = utc_now

    async def register(
        self, username: str, password: str, display_name: str | None, address: str
    ) -> UserAccount:
        await self.throttle.count_registration(address)
        async with self.repository.read() as store:
            # Cheap early answer; the unique index still decides races (add_user).
            if await store.username_exists(username):
                raise UsernameTaken()
        user = UserAccount(
            id=uuid.uuid4(),
            username=username,
            display_name=display_name,
            password_hash=await self.passwords.hash(password),
            created_at=self.clock(),
        )
        async with self.repository.transaction() as store:
            await store.add_user(user)
        USERS_REGISTERED.inc()
        logger.info("registered user %s", user.id)
        return user

    async def login(self, username: str, password: str, address: str) -> IssuedTokens:
        # Counted before any Argon2 work: a throttled guesser costs no hash, however many
        # attempts arrive at once.
        attempt = await self.throttle.begin_login(username, address)
        async with self.repository.read() as store:
            user = await store.user_by_username(username)
        # Always one Argon2 verification (a dummy hash for unknown users): same time, same body.
        matches, new_hash = await self.passwords.verify(
            password, user.password_hash if user else None
        )
        if user is None or not matches:
            LOGINS.labels("failure").inc()
            raise InvalidCredentials()
        now = self.clock()
        async with self.repository.transaction() as store:
            if new_hash is not None:
                # Parameters were raised since this hash was made: upgrade it while we can.
                await store.set_password_hash(user.id, new_hash)
            family = RefreshFamily(
                id=uuid.uuid4(),
                user_id=user.id,
                created_at=now,
                expires_at=now + timedelta(seconds=self.settings.REFRESH_SESSION_LIFETIME_SECONDS),
            )
            store.add_family(family)
            tokens = self._issue(store, user, family, now)
        await self.throttle.login_succeeded(attempt)
        LOGINS.labels("success").inc()
        return tokens

    def _claims(self, refresh_token: str) -> RefreshClaims:
        try:
            return self.signer.read_refresh_token(refresh_token)
        except InvalidRefreshToken as exc:
            REFRESHES.labels("rejected").inc()
            raise RefreshRejected() from exc

    async def _locked(
        self, store: UnitOfWork, claims: RefreshClaims, refresh_token: str, now: datetime
    ) -> tuple[RefreshFamily, RefreshToken] | None:
        """The token's family (locked) and stored row, when the family is live and the row
        is the one the signed claims name; None otherwise."""
        family = await store.family_for_update(claims.family_id)
        if family is None or family.revoked_at is not None or family.expires_at <= now:
            return None
        row = await store.refresh_token_by_hash(hash_refresh_token(refresh_token))
        if row is None or row.id != claims.token_id or row.family_id != family.id:
            return None
        return family, row

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        claims = self._claims(refresh_token)
        now = self.clock()
        reused = False
        tokens: IssuedTokens | None = None
        async with self.repository.transaction() as store:
            found = await self._locked(store, claims, refresh_token, now)
            if found is not None:
                family, row = found
                if row.used_at is not None:
                    # A spent token came back: it was stolen or replayed. Whoever holds the
                    # family's newer tokens can no longer be trusted either.
                    await store.revoke_family(family, now)
                    reused = True
                elif row.expires_at > now:
                    user = await store.user_by_id(row.user_id)
                    if user is not None:
                        store.mark_used(row, now)
                        tokens = self._issue(store, user, family, now)
        if reused:
            REFRESHES.labels("reuse_detected").inc()
            FAMILIES_REVOKED.labels("reuse").inc()
            logger.warning("refresh token reuse: revoked family %s", claims.family_id)
        if tokens is None:
            if not reused:
                REFRESHES.labels("rejected").inc()
            raise RefreshRejected()
        REFRESHES.labels("rotated").inc()
        return tokens

    async def logout(self, refresh_token: str) -> None:
        """End the login this refresh token belongs to (it and every token rotated from the
        same login stop working). A spent token of a live family still proves the login."""
        claims = self._claims(refresh_token)
        now = self.clock()
        async with self.repository.transaction() as store:
            found = await self._locked(store, claims, refresh_token, now)
            if found is None:
                raise RefreshRejected()
            await store.revoke_family(found[0], now)
        LOGOUTS.labels("one").inc()
        FAMILIES_REVOKED.labels("logout").inc()

    async def logout_all(self, user_id: uuid.UUID) -> None:
        """End every login of the user: all their refresh tokens stop working, access tokens
        issued until now mint no Firebase token, and `user.sessions_revoked` tells the other
        services (and Firebase, through the relay) in the same transaction."""
        # The event carries milliseconds: store the same instant every consumer compares with.
        now = truncate_millis(self.clock())
        async with self.repository.transaction() as store:
            revoked = await store.revoke_user_families(user_id, now)
            await store.revoke_sessions(user_id, now)
        self.relay.wake()
        LOGOUTS.labels("all").inc()
        FAMILIES_REVOKED.labels("logout").inc(revoked)

    async def check_session(self, principal: Principal) -> None:
        """SessionRevoked (401) when the caller's account is gone, or the access token was
        issued before the user's last logout-all (DESIGN.md "Sessions")."""
        async with self.repository.read() as store:
            user = await store.user_by_id(principal.id)
        if user is None:
            raise SessionRevoked()
        revoked_at = user.sessions_revoked_at
        # `iat` has whole seconds: a token of the very second of a logout-all is refused
        # too (the safe side; its holder refreshes and gets a newer one).
        if revoked_at is not None and principal.issued_at < revoked_at.timestamp():
            raise SessionRevoked()

    async def get_user(self, user_id: uuid.UUID) -> UserAccount:
        async with self.repository.read() as store:
            user = await store.user_by_id(user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def search_users(
        self, prefix: str, cursor: str | None, limit: int
    ) -> tuple[Sequence[UserAccount], str | None]:
        """One page of users by username prefix, and the cursor of the next page (or None)."""
        after = decode_cursor(cursor) if cursor is not None else None
        async with self.repository.read() as store:
            users = await store.search_users(prefix, after, limit + 1)
        page = users[:limit]
        next_cursor = encode_cursor(page[-1].username.lower()) if len(users) > limit else None
        return page, next_cursor

    def _issue(
        self, store: UnitOfWork, user: UserAccount, family: RefreshFamily, now: datetime
    ) -> IssuedTokens:
        token_id = uuid.uuid4()
        # Never past the login's absolute end, however many rotations came before.
        refresh_ttl = timedelta(seconds=self.settings.REFRESH_TOKEN_TTL_SECONDS)
        expires_at = min(now + refresh_ttl, family.expires_at)
        refresh_token = self.signer.refresh_token(user.id, token_id, family.id, now, expires_at)
        store.add_refresh_token(
            RefreshToken(
                id=token_id,
                family_id=family.id,
                user_id=user.id,
                token_hash=hash_refresh_token(refresh_token),
                created_at=now,
                expires_at=expires_at,
            )
        )
        return IssuedTokens(
            access_token=self.signer.access_token(user.id, user.username, now),
            refresh_token=refresh_token,
            expires_in=self.settings.ACCESS_TOKEN_TTL_SECONDS,
        )
