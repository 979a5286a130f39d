"""A 201 survives kill -9 of Cassandra, chat-api or Kafka: the message is in history
and in exactly one Firestore batch document. (The aggregator's kill -9 test lives in
aggregator/tests/integration/test_crash_and_scale_out.py.)"""

from typing import Any

BURST = 60


async def test_cassandra_killed_right_after_201s_keeps_every_message(stack: Any) -> None:
    chat, acknowledged, last_ack = await stack.burst_then_kill("cassandra", BURST)
    history = await stack.history(chat)
    missing = set(acknowledged) - set(history)
    assert not missing, f"{len(missing)} acknowledged messages lost from history"
    await stack.assert_in_firestore_exactly_once(chat, acknowledged, last_ack)


async def test_chat_api_killed_right_after_201s_announces_every_message_once(
    stack: Any,
) -> None:
    chat, acknowledged, last_ack = await stack.burst_then_kill("chat-api", BURST)
    assert set(acknowledged) <= set(await stack.history(chat))
    await stack.assert_in_firestore_exactly_once(chat, acknowledged, last_ack)


async def test_kafka_killed_right_after_201s_announces_every_message_once(stack: Any) -> None:
    chat, acknowledged, last_ack = await stack.burst_then_kill("kafka", BURST)
    # Sends go on while the producer recovers from the broker's restart.
    more, last_ack = await stack.burst(chat, BURST // 4)
    assert set(acknowledged + more) <= set(await stack.history(chat))
    await stack.assert_in_firestore_exactly_once(chat, acknowledged + more, last_ack)
