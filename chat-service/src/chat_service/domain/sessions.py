"""Deleted accounts and logouts-all, as read from `user-events` by a per-process tail.

chat-api refuses their tokens and ends their streams (`api.refused_sessions`); chat-worker
writes no inbox or receipt document of a deleted user (`projections.inbox`). Each process
tails the whole topic for itself (`chat_common.consume.tail`: no consumer group, from the
beginning), so scaling rebalances nothing.
"""

import asyncio
import logging
import uuid

from aiokafka import ConsumerRecord

from auth_validator import Principal
from chat_common.contract.events import (
    MalformedEvent,
    UserDeleted,
    UserSessionsRevoked,
    parse_user_event,
)

logger = logging.getLogger(__name__)


class RefusedSessions:
    """What this replica has read from `user-events`: who is deleted, who logged out
    everywhere and when, and the open streams that must end when either happens."""

    def __init__(self) -> None:
        self._deleted: set[uuid.UUID] = set()
        self._revoked_at: dict[uuid.UUID, float] = {}
        # Each open stream's principal and the event that ends it, by user.
        self._streams: dict[uuid.UUID, dict[asyncio.Event, Principal]] = {}

    def is_deleted(self, user_id: uuid.UUID) -> bool:
        return user_id in self._deleted

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
