"""Helpers shared by the test modules (importable as `support`)."""

import re
from collections.abc import Callable
from dataclasses import dataclass

PASSWORD = "integration-pass-1"


@dataclass
class Result:
    """What one `chat` process did."""

    code: int
    out: str
    err: str


Run = Callable[..., Result]

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def register(run: Run, username: str) -> None:
    """`chat register` that must succeed and log the user in."""
    result = run("register", username, "--password", PASSWORD)
    assert result.code == 0, result.err
    assert f"logged in as {username}" in result.out


def open_chat(run: Run, other: str) -> str:
    """`chat <other>`: the id of the chat with that user."""
    opened = run("chat", other)
    found = re.search(rf"chat with {other}: ({UUID})", opened.out)
    assert found, opened.out + opened.err
    return found.group(1)


@dataclass
class Pair:
    """Two people, each registered and logged in with a config directory of their own."""

    alice: Run
    bob: Run
    a_name: str
    b_name: str
