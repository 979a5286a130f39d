"""Message times: the UUID maths against a reference UUID, and the one wire format."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from chat_common.contract.times import (
    is_time_uuid,
    min_time_uuid,
    parse_rfc3339_millis,
    rfc3339_millis,
    time_order,
    unix_micros,
    unix_millis,
    uuid_time,
)

# RFC 9562, appendix A.1: a version-1 UUID made at 2022-02-22T14:22:22-05:00.
REFERENCE = uuid.UUID("c232ab00-9414-11ec-b3c8-9f6bdeced846")
REFERENCE_TIME = datetime(2022, 2, 22, 19, 22, 22, tzinfo=UTC)


def test_reference_uuid_time() -> None:
    assert is_time_uuid(REFERENCE)
    assert uuid_time(REFERENCE) == REFERENCE_TIME
    assert unix_micros(REFERENCE) == int(REFERENCE_TIME.timestamp()) * 1_000_000
    assert unix_millis(REFERENCE) == int(REFERENCE_TIME.timestamp()) * 1_000


def test_only_version_1_is_a_time_uuid() -> None:
    assert is_time_uuid(uuid.uuid1())
    assert not is_time_uuid(uuid.uuid4())
    assert not is_time_uuid(uuid.uuid5(uuid.NAMESPACE_DNS, "x"))


def test_min_time_uuid_round_trips_to_the_microsecond_and_sorts_first() -> None:
    instant = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    bound = min_time_uuid(instant)
    assert is_time_uuid(bound)
    assert uuid_time(bound) == instant
    made_then = uuid.UUID(fields=(*bound.fields[:3], 0xBF, 0xFF, 0xFFFFFFFFFFFF))
    assert time_order(bound) < time_order(made_then)
    # A naive time is taken as UTC.
    assert min_time_uuid(instant.replace(tzinfo=None)) == bound


def test_time_order_is_by_time_not_by_text() -> None:
    # The low 32 bits of the time come first in the text: across a carry, text order
    # and time order disagree.
    early = uuid.UUID(fields=(0xFFFFFFFF, 0x1EC9, 0x11EC, 0x80, 0, 0))
    later = uuid.UUID(fields=(0x00000000, 0x1ECA, 0x11EC, 0x80, 0, 0))
    assert str(early) > str(later)
    assert sorted([later, early], key=time_order) == [early, later]


def test_uuid1_ids_read_back_their_wall_clock_time() -> None:
    before = datetime.now(UTC)
    made = uuid.uuid1()
    after = datetime.now(UTC)
    assert before - timedelta(milliseconds=1) <= uuid_time(made) <= after + timedelta(seconds=1)


def test_format_is_utc_milliseconds_cut_not_rounded() -> None:
    instant = datetime(2024, 5, 1, 12, 30, 15, 123999, tzinfo=UTC)
    assert rfc3339_millis(instant) == "2024-05-01T12:30:15.123Z"
    east = instant.astimezone(timezone(timedelta(hours=2)))
    assert rfc3339_millis(east) == "2024-05-01T12:30:15.123Z"
    assert rfc3339_millis(instant.replace(microsecond=0)) == "2024-05-01T12:30:15.000Z"
    with pytest.raises(ValueError):
        rfc3339_millis(instant.replace(tzinfo=None))


def test_parse_reads_the_format_back() -> None:
    text = "2024-05-01T12:30:15.123Z"
    assert parse_rfc3339_millis(text) == datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=UTC)
    assert rfc3339_millis(parse_rfc3339_millis(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "",
        "2024-05-01T12:30:15Z",  # no milliseconds
        "2024-05-01T12:30:15.123456Z",  # microseconds
        "2024-05-01T12:30:15.123+00:00",  # an offset, not Z
        "2024-05-01 12:30:15.123Z",
        "2024-05-01T12:30:15.123z",
        "2024-13-01T12:30:15.123Z",  # month 13
        "2024-05-01T12:30:15.123Z\n",
    ],
)
def test_parse_refuses_any_other_form(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339_millis(text)
