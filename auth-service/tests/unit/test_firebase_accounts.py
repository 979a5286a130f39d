"""Each user event reaches the Firebase port as what it means: logout-all revokes the
user's sessions at its time, deletion deletes the user; and the revocation document's
whole seconds (what firestore.rules compare `auth_time` with) round down."""

import uuid
from datetime import UTC, datetime

from auth_service.firebase_accounts import follow
from chat_common.contract.documents import SessionRevocationDocument
from chat_common.contract.events import UserDeleted, UserSessionsRevoked

AT = datetime(2026, 12, 7, 9, 0, 0, 999_000, tzinfo=UTC)


class RecordingAccounts:
    """A fake of the port: what was asked of Firebase, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, uuid.UUID, datetime]] = []

    async def revoke_sessions(self, user_id: uuid.UUID, revoked_at: datetime) -> None:
        self.calls.append(("revoke_sessions", user_id, revoked_at))

    async def delete_user(self, user_id: uuid.UUID, deleted_at: datetime) -> None:
        self.calls.append(("delete_user", user_id, deleted_at))


async def test_each_event_calls_what_it_means() -> None:
    accounts = RecordingAccounts()
    revoked, deleted = uuid.uuid4(), uuid.uuid4()
    await follow(accounts, UserSessionsRevoked(user_id=revoked, revoked_at=AT))
    await follow(accounts, UserDeleted(user_id=deleted, deleted_at=AT))
    assert accounts.calls == [("revoke_sessions", revoked, AT), ("delete_user", deleted, AT)]


def test_the_document_carries_the_whole_seconds_rounded_down() -> None:
    user_id = uuid.uuid4()
    fields = SessionRevocationDocument(user_id=user_id, revoked_at=AT).to_firestore()
    assert fields == {
        "user_id": str(user_id),
        "revoked_at": AT,
        "revoked_at_seconds": int(datetime(2026, 12, 7, 9, 0, 0, tzinfo=UTC).timestamp()),
    }
    # What is read back is the same document (the computed field is ignored on input).
    assert SessionRevocationDocument.from_firestore(fields).revoked_at == AT
