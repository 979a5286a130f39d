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

from typing import Annotated

from fastapi import Depends, Request

from auth_validator import Principal
from auth_validator.fastapi import CurrentPrincipal, StreamPrincipal
from chat_common.service_app import request_state
from chat_service.domain.errors import CallerRejected
from chat_service.domain.sessions import RefusedSessions

__all__ = ["RefusedSessions", "StreamCaller", "refuse_revoked", "valid_stream_caller"]


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
