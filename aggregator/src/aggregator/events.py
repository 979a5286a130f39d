"""`chat-messages` records into the aggregation core's `Message`s.

The events themselves (versions 1 and 2, strict parsing) are the contract in
`chat_common.contract.events`; this module only decides what the aggregator takes.
"""

from aggregator.aggregation import Message
from chat_common.contract.events import (
    MalformedEvent,
    MessageCreated,
    MessageCreatedV1,
    parse_chat_event,
)

__all__ = ["MalformedEvent", "parse_event"]


def parse_event(value: bytes | None, offset: int) -> Message:
    """Decode one record value into a `Message`, or raise `MalformedEvent` saying why.

    A created message (version 1 or 2) is aggregated. Edits, deletes and read marks are
    not aggregated yet: they are refused as well, so they are parked on the dead-letter
    topic (replayable later), never dropped unrecorded.
    """
    event = parse_chat_event(value)
    if not isinstance(event, MessageCreated | MessageCreatedV1):
        raise MalformedEvent(f"{event.type} events are not aggregated yet")
    return Message(
        event.id,
        str(event.chat_id),
        str(event.sender_id),
        event.text,
        offset,
        tuple(str(member) for member in event.members),
    )
