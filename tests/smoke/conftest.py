"""What the smoke tests of every server share."""

from collections.abc import Callable
from pathlib import Path

import pytest

STATE = Path(__file__).resolve().parents[2] / ".state"


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
