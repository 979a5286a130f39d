"""Firebase follows the account: on logout-all the user's Firebase sessions end, on
deletion their Firebase user goes, and in both cases a server-written revocation document
lets firestore.rules refuse ID tokens from an earlier sign-in (DESIGN.md "Sessions").

`FirebaseAccounts` is the port; `AdminFirebaseAccounts` does it with firebase-admin
(Firebase Auth, or its emulator through FIREBASE_AUTH_EMULATOR_HOST) and the Firestore
client. The user-event relay calls `follow` for every event it publishes, so a Firebase
outage keeps the event queued and retried like a Kafka outage does.
"""

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Protocol

import firebase_admin
from firebase_admin import auth
from google.cloud.firestore import AsyncClient

from chat_common.contract.documents import SessionRevocationDocument, session_revocation_path
from chat_common.contract.events import UserDeleted, UserEvent, UserSessionsRevoked

logger = logging.getLogger(__name__)


class FirebaseAccounts(Protocol):
    """What auth-service asks of Firebase about a user."""

    async def revoke_sessions(self, user_id: uuid.UUID, revoked_at: datetime) -> None:
        """End every Firebase session of the user started before `revoked_at`."""

    async def delete_user(self, user_id: uuid.UUID, deleted_at: datetime) -> None:
        """Remove the user from Firebase Auth; their sessions end with it."""


async def follow(accounts: FirebaseAccounts, event: UserEvent) -> None:
    """Apply a user event to Firebase (idempotent: the relay may apply it twice)."""
    if isinstance(event, UserSessionsRevoked):
        await accounts.revoke_sessions(event.user_id, event.revoked_at)
    elif isinstance(event, UserDeleted):
        await accounts.delete_user(event.user_id, event.deleted_at)


class AdminFirebaseAccounts:
    """firebase-admin's user management plus the revocation document in Firestore."""

    def __init__(self, app: firebase_admin.App, firestore: AsyncClient) -> None:
        self._app = app
        self._firestore = firestore

    async def revoke_sessions(self, user_id: uuid.UUID, revoked_at: datetime) -> None:
        # The document first: it is what stops reads at once (the rules check it), while
        # revoking refresh tokens stops the client getting new ID tokens (within an hour).
        await self._write_revocation(user_id, revoked_at)
        await self._admin(auth.revoke_refresh_tokens, user_id)

    async def delete_user(self, user_id: uuid.UUID, deleted_at: datetime) -> None:
        # Deleting a Firebase user does not invalidate the ID tokens it already holds: the
        # document refuses them too.
        await self._write_revocation(user_id, deleted_at)
        await self._admin(auth.delete_user, user_id)

    async def _write_revocation(self, user_id: uuid.UUID, at: datetime) -> None:
        document = SessionRevocationDocument(user_id=user_id, revoked_at=at)
        await self._firestore.document(session_revocation_path(user_id)).set(
            document.to_firestore()
        )

    async def _admin(self, call: "_UserCall", user_id: uuid.UUID) -> None:
        try:
            # A blocking HTTP call of the SDK: off the event loop.
            await asyncio.to_thread(call, str(user_id), app=self._app)
        except auth.UserNotFoundError:
            # Never signed in to Firebase (or deleted already): nothing to end.
            logger.info("no Firebase user %s: nothing to revoke or delete", user_id)

    def close(self) -> None:
        self._firestore.close()


class _UserCall(Protocol):
    def __call__(self, uid: str, *, app: firebase_admin.App) -> object: ...
