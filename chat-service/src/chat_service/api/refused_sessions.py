"""Deleted accounts and logouts-all, from `user-events`: refuse their tokens on every
chat-api replica, and end their open event streams.

Each replica tails the whole topic for itself (`chat_common.consume.tail`: no consumer
group, from the beginning, so scaling rebalances nothing) into the set of deleted user ids
and each user's latest `revoked_at` (`user.sessions_revoked`, DESIGN.md "Sessions").
A token of a deleted user, or one issued before its user's `revoked_at`, gets 401 from
every route (REST and streams alike), and a stream it opened ends with a `revoked` event.

An access token verifies locally until its `exp` (the validator caches verified tokens up
to then); this is what stops it earlier: within the time the event takes to reach the
replica (about a second), and never later than the token's own lifetime
(ACCESS_TOKEN_TTL_SECONDS, 15 minutes by default), which bounds the cache. `iat` has whole
seconds: a token issued in the same second as the logout-all, after it, is refused too
(the safe side; the client logs in again). The erasure of a deleted user's messages is
chat-worker's (`projections.erasure`).
"""

import asyncio
import logging
import uuid
from typing import Annotated

from aiokafka import ConsumerRecord
from fastapi import Depends, Request

from auth_validator import Principal
from auth_validator.fastapi import CurrentPrincipal, StreamPrincipal
from chat_common.contract.events import (
    MalformedEvent,
    UserDeleted,
    UserSessionsRevoked,
    parse_user_event,
)
from chat_common.service_app import request_state
from chat_service.domain.errors import CallerRejected

logger = logging.getLogger(__name__)


class RefusedSessions:
    """What this replica has read from `user-events`: who is deleted, who logged out
    everywhere and when, and the open streams that must end when either happens."""

    def __init__(self) -> None:
        self._deleted: set[uuid.UUID] = set()
        self._revoked_at: dict[uuid.UUID, float] = {}
        # Each open stream's principal and the event that ends it, by user.
        self._streams: dict[uuid.UUID, dict[asyncio.Event, Principal]] = {}

    def refuses(self, principal: Principal) -> bool:
        """Whether the token proving `principal` no longer counts."""
        if principal.id in self._deleted:
            return True
        revoked_at = self._revoked_at.get(principal.id)
        return revoked_at is not None and principal.issued_at < revoked_at

    def delete(self, user_id: uuid.UUID) -> None:
        self._deleted.add(user_id)
        self._end_refused(user_id)

    def revoke(self, user_id: uuid.UUID, revoked_at: float) -> None:
        """Record a logout-all; a redelivered or older one moves nothing back."""
        self._revoked_at[user_id] = max(revoked_at, self._revoked_at.get(user_id, revoked_at))
        self._end_refused(user_id)

    def watch(self, principal: Principal) -> asyncio.Event:
        """An event set once `principal`'s token is refused (at once if it already is);
        give it back with `unwatch` when the stream ends."""
        ended = asyncio.Event()
        self._streams.setdefault(principal.id, {})[ended] = principal
        if self.refuses(principal):
            ended.set()
        return ended

    def unwatch(self, principal: Principal, ended: asyncio.Event) -> None:
        streams = self._streams.get(principal.id)
        if streams is not None:
            streams.pop(ended, None)
            if not streams:
                del self._streams[principal.id]

    def _end_refused(self, user_id: uuid.UUID) -> None:
        for ended, principal in self._streams.get(user_id, {}).items():
            if self.refuses(principal):
                ended.set()

    def read(self, record: ConsumerRecord) -> None:
        """The tail's handler: remember a `user.deleted` or a `user.sessions_revoked`."""
        try:
            event = parse_user_event(record.value)
        except MalformedEvent as exc:
            # The worker's erasure dead-letters it; here it only cannot refuse anyone.
            logger.warning("skipping a malformed user event: %s", exc)
            return
        if isinstance(event, UserDeleted):
            self.delete(event.user_id)
        elif isinstance(event, UserSessionsRevoked):
            self.revoke(event.user_id, event.revoked_at.timestamp())


def _refuse(request: Request, principal: Principal) -> Principal:
    if request_state(request, "refused_sessions", RefusedSessions).refuses(principal):
        raise CallerRejected()
    return principal


async def refuse_revoked(request: Request, principal: CurrentPrincipal) -> None:
    """401 for a token of a deleted account or from before a logout-all (REST routes)."""
    _refuse(request, principal)


async def valid_stream_caller(request: Request, principal: StreamPrincipal) -> Principal:
    """The stream's caller, unless their token is refused (401, as `refuse_revoked`)."""
    return _refuse(request, principal)


StreamCaller = Annotated[Principal, Depends(valid_stream_caller)]
