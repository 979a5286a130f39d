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


@asynccontextmanager
async def running(options: Options, log: Path) -> AsyncIterator[str]:
    """Migrate the bench keyspace, run a chat-service on it, yield its URL, stop it."""
    # Whatever else answers on the port would be measured instead of our service.
    if not _port_free(options.private_port):
        raise RuntimeError(f"port {options.private_port} is taken; choose --private-port")
    await migrate(settings(options), options.keyspace)
    env = {
        **os.environ,
        **SERVICE_ENV,  # the settings `make up` gives the running chat-service
        "CASSANDRA_KEYSPACE": options.keyspace,
        # Only chat-api: the running chat-worker's inbox projection already consumes every
        # message once (the bench's too); a second group would do that work twice.
        "LOG_LEVEL": "WARNING",
        # The send figures measure the write path, not the per-user rate limit.
        "SEND_RATE_PER_SECOND": "1000000",
        "SEND_RATE_BURST": "1000000",
    }
    command = [
        str(Path(sys.executable).with_name("uvicorn")),
        "chat_service.api.app:create_app",
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
        str(options.private_port),
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        await _wait_ready(options.private_url, process, log)
        yield options.private_url
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
