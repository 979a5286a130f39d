"""A chat-service of the bench's own, on its own port and keyspace.

The send and history figures go over real HTTP to the same code `make up` runs, while a
million seeded messages and the raw-driver rows stay out of the service's keyspace.
"""

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.options import Options
from chat_service.config import Settings
from chat_service.store.migrate import migrate
from infra.stack.components import SERVICE_ENV

READY_TIMEOUT_SECONDS = 60.0


def settings(options: Options) -> Settings:
    return Settings(CASSANDRA_KEYSPACE=options.keyspace)


async def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_SECONDS
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while asyncio.get_running_loop().time() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"bench chat-service exited; see {log}")
            try:
                async with http.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.25)  # polling an HTTP endpoint: there is no event to wait on
    raise RuntimeError(f"bench chat-service not ready in {READY_TIMEOUT_SECONDS:.0f} s; see {log}")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class Served:
    """A server the bench started: where it answers, and its pid (for its CPU time)."""

    url: str
    pid: int


def uvicorn_command(app: str, port: int) -> list[str]:
    """chat-api's uvicorn command line (`make up`'s flags; uvloop and httptools, uvicorn's
    defaults when installed), for `app` on `port`: both bench servers run the same."""
    return [
        str(Path(sys.executable).with_name("uvicorn")),
        app,
        "--factory",
        "--no-access-log",
        "--log-level",
        "warning",
        # Longer than any pause in the run: uvicorn closing an idle keep-alive connection
        # just as the client reuses it fails that request (a client-side race).
        "--timeout-keep-alive",
        "60",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


@asynccontextmanager
async def serving(app: str, port: int, env: dict[str, str], log: Path) -> AsyncIterator[Served]:
    """Run `app` under uvicorn on `port` until the block ends; the log goes to `log`."""
    # Whatever else answers on the port would be measured instead of our server.
    if not _port_free(port):
        raise RuntimeError(f"port {port} is taken; choose another")
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            uvicorn_command(app, port), env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        await _wait_ready(url, process, log)
        yield Served(url, process.pid)
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()


def bench_env(options: Options) -> dict[str, str]:
    """The settings `make up` gives the running chat-service, on the bench's keyspace."""
    return {
        **os.environ,
        **SERVICE_ENV,
        "CASSANDRA_KEYSPACE": options.keyspace,
        "LOG_LEVEL": "WARNING",
    }


@asynccontextmanager
async def running(options: Options, log: Path) -> AsyncIterator[Served]:
    """Migrate the bench keyspace, run a chat-service on it, yield it, stop it."""
    await migrate(settings(options), options.keyspace)
    env = {
        **bench_env(options),
        # Only chat-api: the running chat-worker's inbox projection already consumes every
        # message once (the bench's too); a second group would do that work twice.
        # The send figures measure the write path, not the per-user rate limit.
        "SEND_RATE_PER_SECOND": "1000000",
        "SEND_RATE_BURST": "1000000",
    }
    app = "chat_service.api.app:create_app"
    async with serving(app, options.private_port, env, log) as served:
        yield served
