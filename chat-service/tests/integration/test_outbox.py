"""Every stored message reaches Kafka, also when Kafka was unreachable at send time, and
history too, also when the send died between its outbox row and its history rows; so does
an opened chat."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from support import StartChat, User

from chat_common.contract.times import rfc3339_millis, uuid_time
from chat_service.domain.chats import ChatService
from chat_service.domain.model import CHAT_CREATED, Chat, Message, OutboxEntry, chat_id_for
from chat_service.domain.timeuuids import bucket_start, new_message_id
from chat_service.outbox.sweeper import SWEEP_LAG


async def test_each_message_is_announced_with_the_contract_event(
    client: httpx.AsyncClient, pair: tuple[User, User], start_chat: StartChat, kafka_events: Any
) -> None:
    alice, bob = pair
    chat = await start_chat(alice, bob)
    sent = []
    for i in range(5):
        user = (alice, bob)[i % 2]
        response = await client.post(
            f"/chat/{chat['id']}/messages", json={"text": f"event {i}"}, headers=user.headers
        )
        assert response.status_code == 201
        sent.append(response.json())
    await kafka_events.wait_for([m["id"] for m in sent])
    for message in sent:
        key, event = kafka_events.events[message["id"]][0]
        assert key == chat["id"].encode()
        assert event == {
            "v": 2,
            "type": "message.created",
            "id": message["id"],
            "chat_id": chat["id"],
            "sender_id": message["sender_id"],
            "members": chat["members"],
            "text": message["text"],
            "sent_at": rfc3339_millis(uuid_time(uuid.UUID(message["id"]))),
        }


async def test_send_while_kafka_is_unreachable_is_announced_when_it_is_back(
    pair: tuple[User, User],
    app_factory: Callable[..., Any],
    worker_factory: Callable[..., Any],
    tcp_proxy: Callable[[str, int], Awaitable[Any]],
    kafka_events: Any,
    settings: Any,
) -> None:
    alice, bob = pair
    host, port = settings.KAFKA_BOOTSTRAP_SERVERS.split(",")[0].rsplit(":", 1)
    # The API and the worker reach Kafka only through this forwarder, which starts out down
    # (nothing listens on its port): Kafka is unreachable for both.
    proxy = await tcp_proxy(host, int(port))
    brokers = f"127.0.0.1:{proxy.port}"
    async with (
        app_factory(KAFKA_BOOTSTRAP_SERVERS=brokers) as (_, client),
        worker_factory(KAFKA_BOOTSTRAP_SERVERS=brokers),
    ):
        created = await client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers)
        chat_id = created.json()["id"]
        sent = []
        for i in range(3):
            # A bound against a hang only: how fast a send is belongs to bench/.
            async with asyncio.timeout(30):
                response = await client.post(
                    f"/chat/{chat_id}/messages",
                    json={"text": f"offline {i}"},
                    headers=alice.headers,
                )
            assert response.status_code == 201
            sent.append(response.json()["id"])
        assert (await client.get("/readyz")).status_code == 503
        # Accepted while Kafka could not be reached: none of them is announced yet.
        assert not any(message_id in kafka_events.events for message_id in sent)
        # Kafka is back: the running worker's sweeper finds the outbox rows and announces them.
        await proxy.up()
        await kafka_events.wait_for(sent, timeout=30)


async def test_a_send_that_died_after_its_outbox_row_is_repaired_and_announced(
    worker: Any,
    app_and_client: tuple[Any, httpx.AsyncClient],
    pair: tuple[User, User],
    start_chat: StartChat,
    kafka_events: Any,
) -> None:
    app, client = app_and_client
    alice, bob = pair
    chat = await start_chat(alice, bob)
    chat_id = uuid.UUID(chat["id"])
    # What a send writes first, and nothing after: the process died before the history rows.
    message = Message(id=new_message_id(), chat_id=chat_id, sender_id=alice.id, text="orphan")
    bucket = bucket_start(message.id, app.state.settings.MESSAGE_BUCKET_SECONDS)
    entry = OutboxEntry(new_message_id(), message, bucket, bob.id, datetime.now(UTC))
    await app.state.chat_service.repository.outbox.append(entry)
    # No fast path knows it: the worker's sweep finds it once it is SWEEP_LAG old.
    await kafka_events.wait_for([str(message.id)], timeout=SWEEP_LAG.total_seconds() + 30)
    page = await client.get(f"/chat/{chat_id}", headers=bob.headers)
    assert page.status_code == 200
    assert [(m["id"], m["text"]) for m in page.json()["items"]] == [(str(message.id), "orphan")]


async def test_a_chat_opened_by_a_process_that_died_before_announcing_it_is_announced(
    worker: Any,
    app_and_client: tuple[Any, httpx.AsyncClient],
    pair: tuple[User, User],
    kafka_events: Any,
) -> None:
    app, _ = app_and_client
    alice, bob = pair
    repository = app.state.chat_service.repository
    low, high = sorted((alice.id, bob.id))
    created_at = datetime.now(UTC).replace(microsecond=0)
    chat = Chat(chat_id_for(alice.id, bob.id), (low, high), created_at)
    # What POST /chats writes, up to its outbox row: the process died before the fast path.
    await repository.insert_chat_if_absent(chat)
    await repository.add_chat_to_members(chat)
    await repository.outbox.append(OutboxEntry.chat_created(new_message_id(), chat, alice.id))
    await kafka_events.wait_for([str(chat.id)], timeout=SWEEP_LAG.total_seconds() + 30)
    ((key, event),) = kafka_events.events[str(chat.id)]
    assert key == str(chat.id).encode()
    assert event == {
        "v": 2,
        "type": "chat.created",
        "chat_id": str(chat.id),
        "members": [str(low), str(high)],
        "created_at": rfc3339_millis(created_at),
    }


class _EveryoneExists:
    async def exists(self, user_id: uuid.UUID, bearer_token: str) -> bool:
        return True


async def test_a_chat_is_announced_once_and_a_retry_announces_only_a_lost_creation(
    app_and_client: tuple[Any, httpx.AsyncClient],
) -> None:
    app, _ = app_and_client
    announced: list[OutboxEntry] = []
    opened_at = datetime.now(UTC)
    clock = [opened_at]
    repository = app.state.chat_service.repository
    service = ChatService(
        repository,
        _EveryoneExists(),
        announced.append,
        app.state.settings.MESSAGE_BUCKET_SECONDS,
        clock=lambda: clock[0],
    )
    alice, bob = uuid.uuid4(), uuid.uuid4()

    async def open_chat(after: timedelta, caller: uuid.UUID = alice) -> bool:
        clock[0] = opened_at + after
        _, created = await service.start_chat(caller, bob if caller == alice else alice, "t")
        return created

    assert await open_chat(timedelta(0))
    # A retry soon after, or the other member opening it: the creation's outbox row is
    # there, so nothing is announced again (each would rewrite both inbox documents).
    assert not await open_chat(timedelta(seconds=30))
    assert not await open_chat(timedelta(seconds=31), caller=bob)
    assert not await open_chat(service.reannounce_within + timedelta(seconds=1))
    assert [entry.kind for entry in announced] == [CHAT_CREATED]

    # A creation that died after its chat row, before its outbox row: a retry within the
    # window announces it.
    carol, dave = sorted((uuid.uuid4(), uuid.uuid4()))
    lost = Chat(chat_id_for(carol, dave), (carol, dave), opened_at.replace(microsecond=0))
    await repository.insert_chat_if_absent(lost)
    clock[0] = lost.created_at + timedelta(seconds=5)
    _, created = await service.start_chat(carol, dave, "t")
    assert not created
    assert [(e.kind, e.message.chat_id) for e in announced[1:]] == [(CHAT_CREATED, lost.id)]
