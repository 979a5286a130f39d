"""create_app() and the lifespan: wiring only.

The aggregator has no API; its FastAPI app serves /healthz, /readyz and /metrics (port
8003) and its lifespan runs the consumer. On SIGTERM uvicorn ends the lifespan, which
stops the poll loop: open groups complete (`stop`), are written, offsets committed.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from aggregator.aggregation import AggregationConfig
from aggregator.config import Settings, get_settings
from aggregator.consumer import AggregatingConsumer, start_kafka_clients
from aggregator.sink import FirestoreSink
from aggregator.sweeper import sweep_forever
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


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = state_of(app, "settings", Settings)
    client = async_firestore_client(settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST)
    # With the sweep off (a TTL policy deletes expired batches) no chat is remembered.
    sweep_chats = settings.SWEEP_MAX_CHATS if settings.SWEEP_ENABLED else 0
    sink = FirestoreSink(client, settings.BATCH_TTL_SECONDS, max_sweep_chats=sweep_chats)
    consumer, producer = await start_kafka_clients(
        settings.KAFKA_BOOTSTRAP_SERVERS,
        settings.KAFKA_GROUP_ID,
        settings.KAFKA_SESSION_TIMEOUT_MS,
        access=settings,
    )
    runner = AggregatingConsumer(
        consumer,
        producer,
        sink,
        aggregation_config(settings),
        topic=settings.KAFKA_TOPIC,
        dlq_topic=settings.KAFKA_DLQ_TOPIC,
        max_backlog=settings.MAX_BACKLOG_MESSAGES,
    )
    runner.subscribe()
    app.state.sink = sink
    app.state.runner = runner
    app.state.run_task = asyncio.create_task(runner.run(), name="aggregator-consumer")
    app.state.run_task.add_done_callback(_log_loop_end)
    sweeper = (
        asyncio.create_task(
            sweep_forever(client, settings.SWEEP_INTERVAL_SECONDS, sink.chats),
            name="aggregator-sweeper",
        )
        if settings.SWEEP_ENABLED
        else None
    )
    logger.info(
        "aggregator consuming %s as group %s", settings.KAFKA_TOPIC, settings.KAFKA_GROUP_ID
    )
    try:
        yield
    finally:
        if sweeper is not None:
            sweeper.cancel()
        runner.stop()
        try:
            await asyncio.wait_for(app.state.run_task, SHUTDOWN_SECONDS)
        except Exception:
            logger.exception("consumer loop ended with an error")
        await consumer.stop()
        await producer.stop()
        if sweeper is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        client.close()
        logger.info("aggregator stopped")


def _log_loop_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("consumer loop died; /healthz now fails", exc_info=error)


# Registered ahead of the shared ops routes, so it answers instead of their /healthz.
liveness_router = APIRouter()


@liveness_router.get("/healthz", include_in_schema=False)
async def healthz(request: Request) -> JSONResponse:
    """/healthz that fails once the consume loop has ended, so the process is restarted.

    No I/O: it looks at the loop's task.
    """
    task: asyncio.Task[None] | None = getattr(request.app.state, "run_task", None)
    if task is not None and task.done():
        return JSONResponse({"status": "consumer loop ended"}, status_code=503)
    return JSONResponse({"status": "ok"})


def _checks(app: FastAPI) -> Mapping[str, ReadinessCheck]:
    async def consumer_running() -> None:
        task: asyncio.Task[None] = app.state.run_task
        if task.done():
            raise RuntimeError("consumer loop is not running")

    async def firestore() -> None:
        await app.state.sink.ping()

    return {"consumer": consumer_running, "firestore": firestore}


def create_app(settings: Settings | None = None) -> FastAPI:
    # No API, so no API docs whatever API_DOCS_ENABLED says.
    spec = ServiceSpec(
        name="aggregator", lifespan=lifespan, checks=_checks, routers=[liveness_router], api=False
    )
    return create_service_app(spec, settings or get_settings())
