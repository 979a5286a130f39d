"""The outbox alert really fires: with Kafka killed, sends are still accepted but none is
announced, the oldest unannounced entry ages, and the local Prometheus (`make up`) fires
ChatOutboxNotDraining; with Kafka back, the alert resolves and every message is delivered.

The local rules shorten the alert's `for:` to 10 s (infra/stack/components.py), so the
wait is about its 60 s threshold plus a few scrape intervals. It reads chat-worker's
`chat_outbox_unannounced_age_seconds`."""

import os
from typing import Any

import httpx

from chat_common.waiting import wait_until

PROMETHEUS_URL = os.environ.get("PROMETHEUS_URL", "http://127.0.0.1:9090").rstrip("/")
ALERT = "ChatOutboxNotDraining"
# The 60 s threshold, the local 10 s `for:`, scrape and evaluation intervals, and room for
# a loaded machine.
FIRING_SECONDS = 240.0
RESOLVED_SECONDS = 180.0


async def alert_states() -> set[str]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{PROMETHEUS_URL}/api/v1/alerts")
        response.raise_for_status()
    alerts = response.json()["data"]["alerts"]
    return {alert["state"] for alert in alerts if alert["labels"]["alertname"] == ALERT}


async def test_outbox_alert_fires_while_kafka_is_down_and_resolves_after(stack: Any) -> None:
    assert await alert_states() == set(), f"{ALERT} was already active before the outage"
    chat = await stack.chat()
    stack.kill("kafka")
    try:
        acknowledged, last_ack = await stack.burst(chat, 10)

        async def firing() -> bool:
            return "firing" in await alert_states()

        await wait_until(firing, f"{ALERT} firing in Prometheus", FIRING_SECONDS, interval=1)
    finally:
        await stack.restart()

    async def resolved() -> bool:
        return await alert_states() == set()

    await wait_until(resolved, f"{ALERT} resolved once Kafka is back", RESOLVED_SECONDS, 1)
    await stack.assert_in_firestore_exactly_once(chat, acknowledged, last_ack)
