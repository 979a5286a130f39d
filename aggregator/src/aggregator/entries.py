"""Between the aggregation core's entries and a batch document's three lists (no I/O).

A group holds created messages, edits and deletes of one sender; its document carries them
as `messages`, `edits` and `deletes` (the contract's `BatchDocument`). Reading a taken slot
back gives the entry keys it holds, so the slot planner never writes an entry twice.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aggregator.aggregation import Change, EntryKey, Message
from chat_common.contract.documents import BatchDelete, BatchEdit, BatchMessage
from chat_common.contract.times import parse_rfc3339_millis

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def unix_ms(instant: datetime) -> int:
    """Milliseconds since 1970, exactly (no float rounding)."""
    return (instant - _EPOCH) // _MILLISECOND


def _instant(ms: int | None) -> datetime:
    if ms is None:
        raise ValueError("an edit or delete carries its time")
    return _EPOCH + ms * _MILLISECOND


def _millis(value: object) -> int:
    # Entries' times are RFC 3339 strings in the document; a Timestamp is accepted too.
    instant = parse_rfc3339_millis(value) if isinstance(value, str) else value
    if not isinstance(instant, datetime):
        raise ValueError(f"not a time: {value!r}")
    return unix_ms(instant)


def document_lists(
    entries: Sequence[Message],
) -> tuple[list[BatchMessage], list[BatchEdit], list[BatchDelete]]:
    """A group's entries as a document's messages, edits and deletes, each in order."""
    messages = [BatchMessage.of(e.id, e.text) for e in entries if e.change is Change.CREATED]
    edits = [
        BatchEdit(id=e.id, text=e.text, edited_at=_instant(e.changed_ms))
        for e in entries
        if e.change is Change.EDITED
    ]
    deletes = [
        BatchDelete(id=e.id, deleted_at=_instant(e.changed_ms))
        for e in entries
        if e.change is Change.DELETED
    ]
    return messages, edits, deletes


def held_entries(fields: Mapping[str, Any]) -> list[EntryKey]:
    """The entry keys a stored batch document holds (its three lists)."""
    held: list[EntryKey] = [
        (Change.CREATED, uuid.UUID(str(e["id"])), 0) for e in fields.get("messages") or []
    ]
    held += [
        (Change.EDITED, uuid.UUID(str(e["id"])), _millis(e["edited_at"]))
        for e in fields.get("edits") or []
    ]
    held += [
        (Change.DELETED, uuid.UUID(str(e["id"])), _millis(e["deleted_at"]))
        for e in fields.get("deletes") or []
    ]
    return held
