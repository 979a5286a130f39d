import uuid
from datetime import UTC, datetime

from cassandra.util import uuid_from_time

from chat_service.timeuuids import (
    bucket_start,
    is_time_uuid,
    new_message_id,
    rfc3339_millis,
    sent_at,
    unix_micros,
)


def test_new_ids_are_version_1_and_increasing() -> None:
    ids = [new_message_id() for _ in range(1000)]
    assert all(is_time_uuid(value) for value in ids)
    assert [unix_micros(value) for value in ids] == sorted(unix_micros(value) for value in ids)
    assert len(set(ids)) == len(ids)


def test_only_version_1_is_a_time_uuid() -> None:
    assert not is_time_uuid(uuid.uuid4())
    assert not is_time_uuid(uuid.uuid5(uuid.NAMESPACE_DNS, "x"))


def test_sent_at_is_the_uuid_time() -> None:
    instant = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert sent_at(uuid_from_time(instant)) == instant


def test_bucket_start_floors_to_the_bucket() -> None:
    instant = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)
    seconds = int(instant.timestamp())
    assert bucket_start(uuid_from_time(instant), 3600) == seconds - seconds % 3600
    assert bucket_start(uuid_from_time(instant), 1) == seconds


def test_rfc3339_millis_is_utc_with_z() -> None:
    instant = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert rfc3339_millis(instant) == "2024-05-01T12:30:15.123Z"
