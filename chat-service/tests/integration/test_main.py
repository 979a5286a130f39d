"""Operations routes and OpenAPI of the running app."""

import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx


async def test_health_readiness_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"cassandra": "ok", "kafka": "ok"}
    chat_id = uuid.uuid4()
    assert (await client.get(f"/chat/{chat_id}")).status_code == 401
    metrics = (await client.get("/metrics")).text
    assert "chat_messages_stored_total" in metrics
    assert "chat_events_produced_total" in metrics
    requests = [line for line in metrics.splitlines() if line.startswith("http_requests_total{")]
    # Counted by route template and status, never by the raw path.
    for route, status in (("/readyz", "200"), ("/chat/{chat_id}", "401")):
        assert any(
            f'route="{route}"' in line and f'status="{status}"' in line for line in requests
        ), (route, status, requests)
    assert str(chat_id) not in metrics


async def test_openapi_declares_bearer_auth(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values())
    for path in ("/chats", "/chat/{chat_id}/messages", "/chat/{chat_id}"):
        operations = schema["paths"][path]
        assert all(op.get("security") for op in operations.values()), path


async def test_responses_carry_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_kafka_down_keeps_the_pod_serving_and_readyz_says_so(
    app_factory: Callable[..., Any], tcp_proxy: Callable[[str, int], Awaitable[Any]]
) -> None:
    # Nothing listens behind the forwarder: Kafka is unreachable for this app.
    proxy = await tcp_proxy("127.0.0.1", 9)
    async with app_factory(KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{proxy.port}") as (_, client):
        serving = await client.get("/readyz/serving")
        full = await client.get("/readyz")
    assert serving.status_code == 200, serving.text
    assert serving.json() == {
        "status": "degraded",
        "checks": {"cassandra": "ok", "kafka": "unavailable"},
    }
    assert full.status_code == 503


async def test_the_switch_interval_is_set_while_the_app_runs(
    app_factory: Callable[..., Any],
) -> None:
    before = sys.getswitchinterval()
    async with app_factory(GIL_SWITCH_INTERVAL_SECONDS=0.002) as (_, client):
        assert (await client.get("/healthz")).status_code == 200
        assert sys.getswitchinterval() == 0.002
    assert sys.getswitchinterval() == before
