"""`chat-messages` records into the aggregation core's `Message`s.

The events themselves (versions 1 and 2, strict parsing) are the contract in
`chat_common.contract.events`; this module only decides what the aggregator takes.
"""

from aggregator.aggregation import Change, Message
from aggregator.entries import unix_ms
from chat_common.contract.events import (
    ChatCreated,
    ChatRead,
    MalformedEvent,
    MessageDeleted,
    MessageEdited,
    parse_chat_event,
)

__all__ = ["MalformedEvent", "parse_event"]


def parse_event(value: bytes | None, offset: int) -> Message | None:
    """Decode one record value into a `Message`, or raise `MalformedEvent` saying why.

    A created message (version 1 or 2), an edit and a delete are aggregated (an edit or a
    delete at the time it was made). A read mark or an opened chat is None: batches do not
    carry them (the chat-service's inbox consumer, a consumer group of its own, turns them
    into the inbox and receipt documents), so they are passed over like handled records.
    """
    event = parse_chat_event(value)
    if isinstance(event, ChatRead | ChatCreated):
        return None
    members = tuple(str(member) for member in event.members)
    ids = (event.id, str(event.chat_id), str(event.sender_id))
    if isinstance(event, MessageEdited):
        return Message(*ids, event.text, offset, members, Change.EDITED, unix_ms(event.edited_at))
    if isinstance(event, MessageDeleted):
        return Message(*ids, "", offset, members, Change.DELETED, unix_ms(event.deleted_at))
    return Message(*ids, event.text, offset, members)
