"""`DELETE /users/me {password}`: the caller deletes their account.

One transaction deletes the user row (its refresh families and tokens go with it, by
foreign-key cascade) and queues `user.deleted` in the outbox (`user_events`). From the
commit on: login answers 401 (no such user), every refresh token is gone (401), the user
is absent from `/users` and `GET /users/{id}` is 404. Access tokens already issued stay
valid signatures until their `exp`; chat-service refuses them as soon as it has read the
`user.deleted` event (see chat-service's README), and the erasure of the user's messages
follows from the same event. Deleting again with the same access token is 401: the
account is gone, the state is the same.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth_service.dependencies import ClientAddress, CurrentPrincipal
from auth_service.exceptions import AuthError
from auth_service.security import Passwords
from auth_service.throttle import Throttle
from auth_service.user_events import UserEventRelay, add_user_deleted
from auth_validator import Principal
from chat_common.error_model import error_responses

account_router = APIRouter(tags=["users"])

# The columns this module touches (the table is the ORM's `user_account`).
_user_account = sa.table("user_account", sa.column("id", sa.Uuid()), sa.column("password_hash"))


class WrongPassword(AuthError):
    status_code = status.HTTP_401_UNAUTHORIZED
    detail = "Incorrect password"


class AccountDelete(BaseModel):
    """`DELETE /users/me`: the password again, so a stolen access token cannot do it."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=1024)


@dataclass(eq=False)
class AccountDeletion:
    """Checks the password, then deletes the account and queues its event atomically.

    A wrong password counts as a failed login of the account from that address, under the
    same limits: a stolen access token gives no faster way to guess the password.
    """

    sessions: async_sessionmaker[AsyncSession]
    passwords: Passwords
    throttle: Throttle
    relay: UserEventRelay

    async def delete(self, principal: Principal, password: str, address: str) -> None:
        user_id = principal.id
        attempt = await self.throttle.begin_login(principal.username, address)
        async with self.sessions() as session:
            stored = await session.scalar(
                sa.select(_user_account.c.password_hash).where(_user_account.c.id == user_id)
            )
        # One Argon2 verification either way (a dummy hash when the account is gone).
        matches, _ = await self.passwords.verify(password, stored)
        if stored is None or not matches:
            raise WrongPassword()
        await self.throttle.login_succeeded(attempt)
        async with self.sessions.begin() as session:
            deleted = await session.execute(
                sa.delete(_user_account).where(_user_account.c.id == user_id)
            )
            if deleted.rowcount:  # type: ignore[attr-defined]
                await add_user_deleted(session, user_id, datetime.now(UTC))
        self.relay.wake()


async def get_account_deletion(request: Request) -> AccountDeletion:
    deletion: AccountDeletion = request.app.state.account_deletion
    return deletion


@account_router.delete(
    "/users/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete your account",
    description=(
        "Needs the password again. The account stops working at once (login, refresh, and "
        "access tokens already issued: chat-service refuses them within about a second), "
        "leaves `/users`, and a `user.deleted` event on `user-events` has chat-service erase "
        "its messages (shown as deleted) within 60 s."
    ),
    responses=error_responses(
        (401, "Missing or invalid bearer token, or wrong password"),
        (422, "Invalid body"),
        (429, "Too many wrong passwords (they count as failed logins); see Retry-After"),
        (503, "Database unreachable"),
    ),
)
async def delete_me(
    body: AccountDelete,
    principal: CurrentPrincipal,
    address: ClientAddress,
    deletion: Annotated[AccountDeletion, Depends(get_account_deletion)],
) -> Response:
    """Delete your account: it stops working at once and your messages are erased."""
    await deletion.delete(principal, body.password, address)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
