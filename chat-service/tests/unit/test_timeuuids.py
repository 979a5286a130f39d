import os
import uuid
from datetime import UTC, datetime

from cassandra.util import uuid_from_time

from chat_common.contract.times import is_time_uuid, unix_micros, uuid_time
from chat_service.domain.timeuuids import bucket_start, new_message_id


def test_new_ids_are_version_1_and_increasing() -> None:
    ids = [new_message_id() for _ in range(1000)]
    assert all(is_time_uuid(value) for value in ids)
    assert [unix_micros(value) for value in ids] == sorted(unix_micros(value) for value in ids)
    assert len(set(ids)) == len(ids)


def test_the_contract_reads_the_time_the_driver_puts_in_an_id() -> None:
    instant = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert uuid_time(uuid_from_time(instant)) == instant
    assert not is_time_uuid(uuid.uuid4())


def test_bucket_start_floors_to_the_bucket() -> None:
    instant = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)
    seconds = int(instant.timestamp())
    assert bucket_start(uuid_from_time(instant), 3600) == seconds - seconds % 3600
    assert bucket_start(uuid_from_time(instant), 1) == seconds


def test_new_ids_carry_a_random_node_of_this_process() -> None:
    first, second = new_message_id(), new_message_id()
    assert first.node == second.node
    assert first.node & (1 << 40)  # RFC 4122: a node that is no MAC address is multicast


def test_a_forked_child_makes_ids_of_another_node() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write_end, new_message_id().bytes)
        os._exit(0)
    os.close(write_end)
    child = uuid.UUID(bytes=os.read(read_end, 16))
    os.close(read_end)
    os.waitpid(pid, 0)
    assert is_time_uuid(child)
    assert child.node != new_message_id().node
