"""chat-worker's lifespan: the consumer groups and the outbox sweeper, as background loops.

On SIGTERM uvicorn ends the lifespan: each loop writes what it holds and commits, then the
core closes. A loop that dies fails /healthz, so the process is restarted.
"""

import contextlib
from collections.abc import AsyncIterator, Mapping

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from chat_common.background import Loop, Running, running
from chat_common.contract.firestore import async_firestore_client
from chat_common.observability import ReadinessCheck
from chat_common.service_app import state_of
from chat_service.config import Settings
from chat_service.core import Core, open_core
from chat_service.kafka_source import KafkaSource
from chat_service.outbox.sweeper import Sweeper
from chat_service.projections.erasure import AccountEraser, ErasureRunner
from chat_service.projections.inbox.runner import inbox_runner


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = state_of(app, "settings", Settings)
    async with open_core(settings) as core, contextlib.AsyncExitStack() as stack:
        app.state.core = core
        firestore = async_firestore_client(
            settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST
        )
        stack.callback(firestore.close)
        eraser = AccountEraser(core.chats, core.changes, core.message_changes, firestore)
        user_events = KafkaSource(
            settings.KAFKA_BOOTSTRAP_SERVERS,
            settings.USER_EVENTS_TOPIC,
            settings.USER_EVENTS_GROUP_ID,
            settings,
        )
        app.state.inbox = inbox_runner(settings, core.counts)
        loops: list[Loop] = [
            Sweeper(core.chats, core.publisher, settings.OUTBOX_SCAN_INTERVAL_SECONDS),
            ErasureRunner(user_events, eraser),
            app.state.inbox,
        ]
        async with running(loops) as app.state.loops:
            yield


# Registered ahead of the shared ops routes, so it answers instead of their /healthz.
liveness_router = APIRouter()


@liveness_router.get("/healthz", include_in_schema=False)
async def healthz(request: Request) -> JSONResponse:
    """Fails once a loop has ended, so the process is restarted. No I/O."""
    loops: Running | None = getattr(request.app.state, "loops", None)
    ended = loops.ended() if loops is not None else []
    if ended:
        return JSONResponse({"status": f"ended: {', '.join(ended)}"}, status_code=503)
    return JSONResponse({"status": "ok"})


def readiness_checks(app: FastAPI) -> Mapping[str, ReadinessCheck]:
    core = state_of(app, "core", Core)

    async def loops_running() -> None:
        ended = state_of(app, "loops", Running).ended()
        if ended:
            raise RuntimeError(f"ended: {', '.join(ended)}")

    return {"cassandra": core.store.ping, "kafka": core.publisher.check, "loops": loops_running}
