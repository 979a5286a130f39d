"""Message times: version-1 (time) UUIDs and the RFC 3339 format used on the wire.

A message id is a version-1 UUID and carries its send time. Inside a process a time is
a `datetime` (UTC) or an integer; it becomes `2024-05-01T12:00:00.123Z` only at the edge
(an event, a document, a response), through `rfc3339_millis`, and is read back with
`parse_rfc3339_millis`.
"""

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

# 100-ns intervals between the Gregorian epoch of RFC 4122 (1582-10-15) and 1970-01-01.
UUID_EPOCH_OFFSET = 0x01B21DD213814000

_RFC3339_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


# A version-1 RFC 4122 UUID in its usual text form, as API documents state it.
TIME_UUID_PATTERN = (
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-1[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)


def is_time_uuid(value: uuid.UUID) -> bool:
    """True for an RFC 4122 version-1 (time-based) UUID."""
    return value.variant == uuid.RFC_4122 and value.version == 1


def unix_micros(value: uuid.UUID) -> int:
    """Microseconds since 1970 encoded in a version-1 UUID."""
    return (value.time - UUID_EPOCH_OFFSET) // 10


def unix_millis(value: uuid.UUID) -> int:
    """Milliseconds since 1970 encoded in a version-1 UUID."""
    return (value.time - UUID_EPOCH_OFFSET) // 10_000


def uuid_time(value: uuid.UUID) -> datetime:
    """The UTC instant a version-1 UUID was made, to the microsecond."""
    seconds, micros = divmod(unix_micros(value), 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


def time_order(value: uuid.UUID) -> tuple[int, str]:
    """Sort key of time UUIDs: the 100-ns timestamp, then the id to break ties."""
    return value.time, str(value)


def min_time_uuid(instant: datetime) -> uuid.UUID:
    """The smallest version-1 UUID of `instant` (clock sequence and node zero).

    Every id made at that instant or later sorts after it, so it serves as a bound for
    "messages older than" queries. A naive `instant` is taken as UTC.
    """
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    micros = round(instant.timestamp() * 1_000_000)
    ticks = micros * 10 + UUID_EPOCH_OFFSET
    time_low = ticks & 0xFFFFFFFF
    time_mid = (ticks >> 32) & 0xFFFF
    time_hi_version = ((ticks >> 48) & 0x0FFF) | 0x1000
    return uuid.UUID(fields=(time_low, time_mid, time_hi_version, 0x80, 0, 0))


def truncate_millis(instant: datetime) -> datetime:
    """`instant` in UTC, cut to the millisecond (what the wire format keeps)."""
    if instant.tzinfo is None:
        raise ValueError("a time must carry a time zone")
    instant = instant.astimezone(UTC)
    return instant.replace(microsecond=instant.microsecond - instant.microsecond % 1000)


def rfc3339_millis(instant: datetime) -> str:
    """`2024-05-01T12:00:00.123Z`: UTC, milliseconds (cut, not rounded), a `Z`."""
    return truncate_millis(instant).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339_millis(value: str) -> datetime:
    """The instant of a `2024-05-01T12:00:00.123Z` string; ValueError for any other form."""
    if not _RFC3339_MILLIS.fullmatch(value):
        raise ValueError("expected RFC 3339 UTC with milliseconds, like 2024-05-01T12:00:00.123Z")
    return datetime.fromisoformat(value)


def _instant_in(value: object) -> object:
    return parse_rfc3339_millis(value) if isinstance(value, str) else value


Instant = Annotated[
    datetime,
    BeforeValidator(_instant_in),
    AfterValidator(truncate_millis),
    PlainSerializer(rfc3339_millis, return_type=str),
]
"""A UTC time to the millisecond, written and read as RFC 3339 with milliseconds."""


def _time_uuid(value: uuid.UUID) -> uuid.UUID:
    if not is_time_uuid(value):
        raise ValueError("must be a version-1 time UUID")
    return value


TimeUUID = Annotated[uuid.UUID, AfterValidator(_time_uuid)]
"""A version-1 (time) UUID: every message id."""
