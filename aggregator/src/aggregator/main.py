"""create_app() and the lifespan: wiring only.

The aggregator has no API; its FastAPI app serves /healthz, /readyz and /metrics (port
8003) and its lifespan runs the consume loop (and the sweeper). On SIGTERM uvicorn ends the
lifespan, which stops the loop: open groups complete (`stop`), are written, offsets
committed.
"""

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping

from fastapi import FastAPI

from aggregator.aggregation import AggregationConfig
from aggregator.config import Settings, get_settings
from aggregator.projection import AggregatorProjection
from aggregator.sink import FirestoreSink
from aggregator.sweeper import Sweeper
from chat_common.background import Loop, liveness_router, loops_check, running
from chat_common.consume.dead_letters import DeadLetterSink, KafkaDeadLetterSink
from chat_common.consume.loop import ConsumeLoop, group_loop
from chat_common.contract.firestore import async_firestore_client
from chat_common.observability import ReadinessCheck
from chat_common.service_app import ServiceSpec, create_service_app, state_of

logger = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 10.0


def aggregation_config(settings: Settings) -> AggregationConfig:
    return AggregationConfig(
        window_ms=settings.AGG_WINDOW_MS,
        max_messages=settings.AGG_MAX_MESSAGES,
        max_bytes=settings.AGG_MAX_BYTES,
        lateness_ms=settings.AGG_LATENESS_MS,
        max_future_ms=settings.AGG_MAX_FUTURE_MS,
    )


def consume_loop(
    settings: Settings, projection: AggregatorProjection, dead_letters: DeadLetterSink
) -> ConsumeLoop:
    """The group KAFKA_GROUP_ID over KAFKA_TOPIC, parking poison on KAFKA_DLQ_TOPIC."""
    return group_loop(
        settings,
        settings.KAFKA_BOOTSTRAP_SERVERS,
        settings.KAFKA_GROUP_ID,
        settings.KAFKA_TOPIC,
        settings.KAFKA_DLQ_TOPIC,
        projection,
        dead_letters,
        offset_reset="earliest",
        max_failures=settings.DLQ_AFTER_FAILURES,
        session_timeout_ms=settings.KAFKA_SESSION_TIMEOUT_MS,
        max_records=1000,
        max_backlog=settings.MAX_BACKLOG_MESSAGES,
    )


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = state_of(app, "settings", Settings)
    client = async_firestore_client(settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST)
    # With the sweep off (a TTL policy deletes expired batches) no chat is remembered.
    sweep_chats = settings.SWEEP_MAX_CHATS if settings.SWEEP_ENABLED else 0
    app.state.sink = FirestoreSink(client, settings.BATCH_TTL_SECONDS, max_sweep_chats=sweep_chats)
    app.state.projection = AggregatorProjection(app.state.sink, aggregation_config(settings))
    dead_letters = KafkaDeadLetterSink(settings.KAFKA_BOOTSTRAP_SERVERS, settings)
    loops: list[Loop] = [consume_loop(settings, app.state.projection, dead_letters)]
    if settings.SWEEP_ENABLED:
        loops.append(Sweeper(client, settings.SWEEP_INTERVAL_SECONDS, app.state.sink.chats))
    logger.info(
        "aggregator consuming %s as group %s", settings.KAFKA_TOPIC, settings.KAFKA_GROUP_ID
    )
    try:
        async with running(loops, SHUTDOWN_SECONDS) as app.state.loops:
            yield
    finally:
        await dead_letters.close()
        client.close()
        logger.info("aggregator stopped")


def _checks(app: FastAPI) -> Mapping[str, ReadinessCheck]:
    async def firestore() -> None:
        await app.state.sink.ping()

    return {"consumer": loops_check(app), "firestore": firestore}


def create_app(settings: Settings | None = None) -> FastAPI:
    # No API, so no API docs whatever API_DOCS_ENABLED says.
    spec = ServiceSpec(
        name="aggregator",
        lifespan=lifespan,
        checks=_checks,
        routers=[liveness_router()],
        api=False,
    )
    return create_service_app(spec, settings or get_settings())
