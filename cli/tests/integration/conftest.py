"""The `chat` command against the real auth-service and chat-service that `make up` runs."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from support import Pair, Result, Run, register

from chat_cli.config import Settings

READY_WAIT_SECONDS = 60.0


def _wait_ready(name: str, url: str) -> None:
    deadline = time.monotonic() + READY_WAIT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{url}/readyz", timeout=2.0)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(1.0)
    pytest.fail(f"{name} at {url} is not ready after {READY_WAIT_SECONDS:.0f} s ({last}): make up")


@pytest.fixture(scope="session")
def services() -> Settings:
    settings = Settings()
    _wait_ready("auth-service", settings.AUTH_URL)
    _wait_ready("chat-service", settings.CHAT_URL)
    return settings


@pytest.fixture
def run_as(tmp_path: Path, services: Settings) -> Callable[[str], Run]:
    """`run_as("alice")(*args)` runs `chat` with alice's own config directory."""

    def for_user(who: str) -> Run:
        def run(*args: str, **env: str) -> Result:
            environ = {**os.environ, "CHAT_CONFIG_DIR": str(tmp_path / who), **env}
            done = subprocess.run(
                [sys.executable, "-m", "chat_cli", *args],
                env=environ,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            return Result(done.returncode, done.stdout, done.stderr)

        return run

    return for_user


@pytest.fixture
def unique() -> Callable[[str], str]:
    return lambda prefix: f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture
def pair(run_as: Callable[[str], Run], unique: Callable[[str], str]) -> Pair:
    """Alice and Bob, registered under fresh names."""
    people = Pair(run_as("alice"), run_as("bob"), unique("clia"), unique("clib"))
    register(people.alice, people.a_name)
    register(people.bob, people.b_name)
    return people
