"""Deleted accounts, from `user-events`: refuse their tokens on every chat-api replica.

Each replica tails the whole topic for itself (`chat_common.consume.tail`: no consumer
group, from the beginning, so scaling rebalances nothing) into a set of deleted user ids,
and `refuse_deleted_users` answers 401 to a token of any of them. An access token
verifies locally until its `exp` (the validator caches verified tokens up to then); this
is what stops it earlier: within the time the event takes to reach the replica (about a
second), and never later than the token's own lifetime (ACCESS_TOKEN_TTL_SECONDS, 15
minutes by default), which bounds the cache. The erasure of their messages is
chat-worker's (`projections.erasure`).
"""

import logging
import uuid

from aiokafka import ConsumerRecord
from fastapi import Request

from auth_validator.fastapi import CurrentPrincipal
from chat_common.contract.events import MalformedEvent, UserDeleted, parse_user_event
from chat_service.domain.errors import CallerRejected

logger = logging.getLogger(__name__)


class DeletedUsers:
    """The ids of deleted accounts this replica has read from `user-events`."""

    def __init__(self) -> None:
        self._ids: set[uuid.UUID] = set()

    def add(self, user_id: uuid.UUID) -> None:
        self._ids.add(user_id)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._ids

    def read(self, record: ConsumerRecord) -> None:
        """The tail's handler: remember the user of a `user.deleted`."""
        try:
            event = parse_user_event(record.value)
        except MalformedEvent as exc:
            # The worker's erasure dead-letters it; here it only cannot refuse anyone.
            logger.warning("skipping a malformed user event: %s", exc)
            return
        if isinstance(event, UserDeleted):
            self.add(event.user_id)


async def refuse_deleted_users(request: Request, principal: CurrentPrincipal) -> None:
    """401 for a token of a deleted account (see the module's docstring for the bound)."""
    deleted: DeletedUsers = request.app.state.deleted_users
    if principal.id in deleted:
        raise CallerRejected()
