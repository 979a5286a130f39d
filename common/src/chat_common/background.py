"""Background loops of a lifespan: objects with `run()` and `stop()`, run as tasks.

A wiring function starts them with `running(...)` and never handles a task itself: on exit
each loop is asked to stop (the last started first), then awaited for a bounded time and
cancelled if it overstays, so a stuck loop cannot hold a shutdown forever.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

logger = logging.getLogger(__name__)


class Loop(Protocol):
    """A background loop: `run` until `stop` is called."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


class Running:
    """The tasks of the loops `running` started, for liveness and readiness checks."""

    def __init__(self, tasks: Sequence["asyncio.Task[None]"]) -> None:
        self.tasks = tuple(tasks)

    def ended(self) -> list[str]:
        """The names of the loops whose task has ended (none should, before the stop)."""
        return [task.get_name() for task in self.tasks if task.done()]


@contextlib.asynccontextmanager
async def running(loops: Sequence[Loop], stop_seconds: float = 5.0) -> AsyncIterator[Running]:
    """Run each loop as a task inside; on exit stop them in reverse order, bounded."""
    tasks = [asyncio.create_task(loop.run(), name=type(loop).__name__) for loop in loops]
    for task in tasks:
        task.add_done_callback(_log_unexpected_end)
    try:
        yield Running(tasks)
    finally:
        for loop, task in reversed(list(zip(loops, tasks, strict=True))):
            loop.stop()
            # `wait` raises nothing of the task's own: a loop that died was logged already.
            done, _ = await asyncio.wait({task}, timeout=stop_seconds)
            if not done:
                logger.warning("%s did not stop in %.0fs; cancelled", task.get_name(), stop_seconds)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def _log_unexpected_end(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("background loop %s died", task.get_name(), exc_info=error)


def liveness_router() -> APIRouter:
    """A /healthz for a service whose work is its loops: it fails once one of the loops on
    `app.state.loops` (the `Running` of `running`) has ended, so the process is restarted.
    No I/O. Registered ahead of the shared ops routes, so it answers instead of theirs."""
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        loops: Running | None = getattr(request.app.state, "loops", None)
        ended = loops.ended() if loops is not None else []
        if ended:
            return JSONResponse({"status": f"ended: {', '.join(ended)}"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return router


def loops_check(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """A readiness check that fails once one of `app.state.loops` has ended."""

    async def loops_running() -> None:
        loops: Running | None = getattr(app.state, "loops", None)
        ended = loops.ended() if loops is not None else []
        if ended:
            raise RuntimeError(f"ended: {', '.join(ended)}")

    return loops_running
