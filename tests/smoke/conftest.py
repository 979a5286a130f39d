"""What the smoke tests of every server share."""

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from chat_common.waiting import wait_until_ready

STATE = Path(__file__).resolve().parents[2] / ".state"
READY_TIMEOUT_S = 60.0

# `await server_ready(check, "kafka", "Kafka at host:port")`
ServerReady = Callable[[Callable[[], Awaitable[object]], str, str], Awaitable[None]]


@pytest.fixture(scope="session")
def log_tail() -> Callable[[str], str]:
    """`log_tail("kafka")`: the end of that server's log under .state/, for a failure."""

    def tail(component: str, lines: int = 20) -> str:
        log = STATE / component / f"{component}.log"
        if not log.exists():
            return f"(no server log at {log})"
        last = log.read_text(errors="replace").splitlines()[-lines:]
        return f"last lines of {log}:\n" + "\n".join(last)

    return tail


@pytest.fixture(scope="session")
def server_ready(log_tail: Callable[[str], str]) -> ServerReady:
    """Retry `check` until the server answers; past the bound, fail with its log's end."""

    async def wait(check: Callable[[], Awaitable[object]], component: str, what: str) -> None:
        try:
            await wait_until_ready(check, what, timeout=READY_TIMEOUT_S)
        except TimeoutError as exc:
            pytest.fail(f"{exc} (run `make up`)\n{log_tail(component)}", pytrace=False)

    return wait
