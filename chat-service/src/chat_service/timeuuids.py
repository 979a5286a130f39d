"""Version-1 time UUIDs: message ids made by the service, their time, and bucket starts."""

import uuid
from datetime import UTC, datetime

# 100-ns intervals between the Gregorian epoch of RFC 4122 (1582-10-15) and 1970-01-01.
_GREGORIAN_OFFSET = 0x01B21DD213814000


def new_message_id() -> uuid.UUID:
    """A fresh version-1 UUID; uuid1 keeps ids from one process strictly increasing."""
    return uuid.uuid1()


def is_time_uuid(value: uuid.UUID) -> bool:
    """True for an RFC 4122 version-1 (time-based) UUID."""
    return value.variant == uuid.RFC_4122 and value.version == 1


def unix_micros(value: uuid.UUID) -> int:
    """Microseconds since 1970 encoded in a version-1 UUID."""
    return (value.time - _GREGORIAN_OFFSET) // 10


def sent_at(value: uuid.UUID) -> datetime:
    """The UTC instant a version-1 UUID was made, to the microsecond."""
    micros = unix_micros(value)
    seconds, rest = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest)


def bucket_start(value: uuid.UUID, bucket_seconds: int) -> int:
    """Start (Unix seconds) of the time bucket a message id falls in.

    Buckets are stored as their start second rather than an index, so reads never need
    the bucket size and a later change of MESSAGE_BUCKET_SECONDS keeps old data readable.
    """
    seconds = unix_micros(value) // 1_000_000
    return seconds - seconds % bucket_seconds


def rfc3339_millis(instant: datetime) -> str:
    """`2024-05-01T12:00:00.123Z`: the event's timestamp format."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
