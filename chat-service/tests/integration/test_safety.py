"""Blocks and reports (DESIGN.md "Safety") on the real Cassandra, Kafka and auth service.

Two chat-api instances stand for two replicas behind a load balancer: a block made on one
must hold on the other within its BLOCK_CACHE_SECONDS, with no event between them.
"""

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from cassandra.util import uuid_from_time
from support import StartChat, User

from chat_common.contract.moderation import MODERATION_TOPIC, REASON_MAX_CHARS, parse_report
from chat_common.store_access import kafka_client_kwargs
from chat_service.config import Settings

# Comfortably past BLOCK_CACHE_SECONDS (1 s): how long a poll may wait for a change to hold.
CHANGE_BOUND_S = 5.0


async def _send(client: httpx.AsyncClient, chat_id: str, user: User, text: str) -> httpx.Response:
    return await client.post(f"/chat/{chat_id}/messages", json={"text": text}, headers=user.headers)


async def _until_status(
    client: httpx.AsyncClient, chat_id: str, user: User, status: int
) -> httpx.Response:
    """Send every 0.2 s (under the send rate) until one answers `status`; fail past the bound."""
    deadline = time.monotonic() + CHANGE_BOUND_S
    while True:
        response = await _send(client, chat_id, user, "still there?")
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.text
            return response
        await asyncio.sleep(0.2)


async def test_a_block_holds_on_another_replica_and_is_one_way(
    client: httpx.AsyncClient,
    app_factory: Callable[..., Any],
    pair: tuple[User, User],
    chat: dict[str, Any],
) -> None:
    alice, bob = pair
    async with app_factory() as (_, other_replica):
        # The other replica has read "not blocked" for this pair before the block.
        assert (await _send(other_replica, chat["id"], bob, "hi")).status_code == 201
        assert (await client.put(f"/blocks/{bob.id}", headers=alice.headers)).status_code == 204
        refused = await _until_status(other_replica, chat["id"], bob, 403)
        assert refused.json() == {"detail": "blocked"}
        # On the replica that took the block, at once.
        assert (await _send(client, chat["id"], bob, "hello?")).status_code == 403
        # One-way: the blocker still sends.
        assert (await _send(other_replica, chat["id"], alice, "bye")).status_code == 201
        listed = (await client.get("/blocks", headers=alice.headers)).json()["items"]
        assert [item["user_id"] for item in listed] == [str(bob.id)]
        assert (await client.get("/blocks", headers=bob.headers)).json() == {"items": []}
        # Blocking again changes nothing.
        assert (await client.put(f"/blocks/{bob.id}", headers=alice.headers)).status_code == 204
        again = (await client.get("/blocks", headers=alice.headers)).json()["items"]
        assert again == listed
        assert (await client.delete(f"/blocks/{bob.id}", headers=alice.headers)).status_code == 204
        await _until_status(other_replica, chat["id"], bob, 201)
    assert (await client.get("/blocks", headers=alice.headers)).json() == {"items": []}
    # The refused sends were not stored: history holds the 201s only.
    texts = [
        m["text"]
        for m in (await client.get(f"/chat/{chat['id']}", headers=alice.headers)).json()["items"]
    ]
    assert "hello?" not in texts and "hi" in texts and "bye" in texts


async def test_block_refuses_oneself_unknown_users_and_strangers(
    client: httpx.AsyncClient, pair: tuple[User, User]
) -> None:
    alice, _ = pair
    assert (await client.put(f"/blocks/{alice.id}", headers=alice.headers)).status_code == 422
    assert (await client.put(f"/blocks/{uuid.uuid4()}", headers=alice.headers)).status_code == 404
    assert (
        await client.delete(f"/blocks/{uuid.uuid4()}", headers=alice.headers)
    ).status_code == 404
    assert (await client.put("/blocks/not-a-uuid", headers=alice.headers)).status_code == 422
    assert (await client.put(f"/blocks/{alice.id}")).status_code == 401
    assert (await client.get("/blocks", headers=alice.headers)).json() == {"items": []}


@contextlib.asynccontextmanager
async def _moderation(settings: Settings) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer of the moderation topic from its current end."""
    # Without a group, start() waits for the topic's metadata and assigns every partition.
    consumer = AIOKafkaConsumer(
        MODERATION_TOPIC,
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
        **kafka_client_kwargs(settings),
    )
    await consumer.start()
    try:
        assigned = consumer.assignment()
        assert assigned, f"no topic {MODERATION_TOPIC} (make up creates it)"
        await consumer.seek_to_end(*assigned)
        for tp in assigned:
            await consumer.position(tp)
        yield consumer
    finally:
        await consumer.stop()


async def _report_of(consumer: AIOKafkaConsumer, message_id: str) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        async for record in consumer:
            event: dict[str, Any] = json.loads(record.value or b"{}")
            if event.get("message", {}).get("id") == message_id:
                parse_report(record.value or b"")  # the contract's own parser accepts it
                assert record.key == event["chat_id"].encode()
                return event
        raise AssertionError("consumer stopped")

    return await asyncio.wait_for(first(), 20)


async def test_a_report_carries_the_message_as_it_was(
    client: httpx.AsyncClient,
    settings: Settings,
    pair: tuple[User, User],
    chat: dict[str, Any],
) -> None:
    alice, bob = pair
    sent = (await _send(client, chat["id"], bob, "something rude")).json()
    async with _moderation(settings) as consumer:
        answer = await client.post(
            f"/chat/{chat['id']}/messages/{sent['id']}/report",
            json={"reason": "  rude  "},
            headers=alice.headers,
        )
        assert answer.status_code == 202, answer.text
        event = await _report_of(consumer, sent["id"])
    assert event["type"] == "message.reported" and event["v"] == 2
    assert event["chat_id"] == chat["id"]
    assert event["reported_by"] == str(alice.id)
    assert event["reason"] == "rude"
    assert event["message"]["sender_id"] == str(bob.id)
    assert event["message"]["text"] == "something rude"
    assert event["message"]["sent_at"] == sent["sent_at"]


async def test_reports_refuse_strangers_unknown_messages_bad_reasons(
    client: httpx.AsyncClient,
    make_user: Callable[[], Awaitable[User]],
    pair: tuple[User, User],
    chat: dict[str, Any],
) -> None:
    alice, bob = pair
    sent = (await _send(client, chat["id"], bob, "hello")).json()
    path = f"/chat/{chat['id']}/messages/{sent['id']}/report"
    carol = await make_user()
    assert (await client.post(path, json={"reason": "x"}, headers=carol.headers)).status_code == 404
    unknown = f"/chat/{chat['id']}/messages/{uuid_from_time(time.time())}/report"
    assert (
        await client.post(unknown, json={"reason": "x"}, headers=alice.headers)
    ).status_code == 404
    for reason in ("", "   ", "x" * (REASON_MAX_CHARS + 1), "bidi \u202e"):
        answer = await client.post(path, json={"reason": reason}, headers=alice.headers)
        assert answer.status_code == 422, reason
    assert (await client.post(path, json={"reason": "x"})).status_code == 401


async def test_reports_past_the_rate_get_429(
    app_factory: Callable[..., Any], pair: tuple[User, User], start_chat: StartChat
) -> None:
    alice, bob = pair
    chat = await start_chat(alice, bob)
    async with app_factory(REPORT_RATE_PER_SECOND=0.01, REPORT_RATE_BURST=2) as (_, replica):
        sent = (await _send(replica, chat["id"], bob, "spam")).json()
        path = f"/chat/{chat['id']}/messages/{sent['id']}/report"
        answers = [
            await replica.post(path, json={"reason": "spam"}, headers=alice.headers)
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1


@pytest.mark.parametrize("method", ["put", "delete"])
async def test_block_changes_need_a_token(client: httpx.AsyncClient, method: str) -> None:
    assert (await client.request(method.upper(), f"/blocks/{uuid.uuid4()}")).status_code == 401
