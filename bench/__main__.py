"""`python -m bench`: run every benchmark, write bench/results/<timestamp>/report.md."""

import argparse
import asyncio
import os
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import fields, replace
from datetime import UTC, datetime

from bench import (
    aggregator_rate,
    endpoint,
    history,
    message_changes,
    private_service,
    realtime,
    send,
    tokens,
    worker_paused,
)
from bench.options import Options, add_arguments, from_arguments
from bench.progress import console
from bench.results import Results, write
from bench.soak import run as soak
from infra.rights.local import credentials_env

# Firestore delays before the send and history parts: those leave the aggregator and the
# inbox consumers minutes of their messages to work through, which the delays would measure.
# The endpoint part next, while Cassandra holds the fewest new SSTables to compact.
PARTS = ("tokens", "firestore", "endpoint", "send", "worker", "history", "aggregator", "soak")
# Parts that run on the bench's own chat-service.
PRIVATE = {"endpoint", "send", "worker", "history"}
SOAK_ALSO = {"auth_url", "chat_url", "firestore", "firestore_project", "state", "out", "compare"}


def parse(argv: Sequence[str], description: str, only: tuple[str, ...] = ()) -> Options:
    parser = argparse.ArgumentParser(prog="bench", description=description)
    names = [f.name for f in fields(Options)]
    if only == ("soak",):
        names = [n for n in names if n.startswith("soak_") or n in SOAK_ALSO]
    add_arguments(parser, names)
    options = from_arguments(parser.parse_args(argv))
    unknown = set(options.only) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; parts: {', '.join(PARTS)}")
    return replace(options, only=only) if only else options


async def run(options: Options) -> int:
    """Every selected part in turn; a part that fails is reported and the rest still run."""
    # SIGTERM cancels like Ctrl-C: the bench's chat-service and throwaway topics are
    # cleaned up on the way out.
    main_task = asyncio.current_task()
    if main_task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    folder = options.out / datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    folder.mkdir(parents=True, exist_ok=True)
    results = Results(folder)
    selected = [part for part in PARTS if not options.only or part in options.only]

    def failed(name: str, exc: Exception) -> None:
        results.failures[name] = f"{type(exc).__name__}: {exc}"
        with (folder / "errors.log").open("a") as log:
            log.write(f"== {name}\n{traceback.format_exc()}\n")
        console.print(f"[red]{name} failed[/red]: {exc}")

    async with AsyncExitStack() as stack:
        served = private_service.Served("", 0)
        log = folder / "bench-chat-service.log"
        if PRIVATE & set(selected):
            try:
                served = await stack.enter_async_context(private_service.running(options, log))
            except Exception as exc:  # noqa: BLE001 (its parts fail, the others still run)
                for name in PRIVATE & set(selected):
                    failed(name, exc)
                selected = [part for part in selected if part not in PRIVATE]
        parts: dict[str, Callable[[], Awaitable[None]]] = {
            "tokens": lambda: tokens.run(options, results),
            "endpoint": lambda: endpoint.run(options, results, served, log),
            "send": lambda: send.run(options, results, served.url),
            "worker": lambda: worker_paused.run(options, results, served.url),
            "history": lambda: history.run(options, results, served.url),
            "firestore": lambda: _firestore(options, results),
            "aggregator": lambda: aggregator_rate.run(options, results),
            "soak": lambda: soak.run(options, results),
        }
        for name in selected:
            console.rule(f"[bold]{name}")
            try:
                await parts[name]()
            except Exception as exc:  # noqa: BLE001 (a failed part is reported, the rest still run)
                failed(name, exc)
    report = write(results, options.compare)
    console.print(f"report: {report}")
    return 1 if results.failures else 0


async def _firestore(options: Options, results: Results) -> None:
    """The traffic shapes, then what edits and deletes add to them."""
    await realtime.run(options, results)
    await message_changes.run(options, results)


def main(argv: Sequence[str] | None = None) -> None:
    options = parse(sys.argv[1:] if argv is None else argv, __doc__ or "")
    # The bench's own Kafka user and Cassandra role (infra/rights): every client and
    # in-process service it starts reads its credentials from the environment.
    os.environ.update(credentials_env("bench"))
    sys.exit(interruptible(run(options)))


def interruptible(work: Coroutine[object, object, int]) -> int:
    """Run the bench; stopped (SIGTERM, Ctrl-C) it cleans up and exits 130, no traceback."""
    try:
        return asyncio.run(work)
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print("[yellow]bench stopped[/yellow]")
        return 130


if __name__ == "__main__":
    main()
