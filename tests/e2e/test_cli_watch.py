"""`chat watch` as a process on a real stream: history first, then each new message once."""

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Any

import httpx

User = Any
LINE = re.compile(r"^\d\d:\d\d:\d\d (\S+): (.*)  ([0-9a-f-]{36})$")


CHAT = [sys.executable, "-m", "chat_cli"]


def cli_env(config_dir: Path, urls: Any) -> dict[str, str]:
    """A `chat` process's environment: its own config directory, the stack's URLs."""
    return {
        **os.environ,
        "CHAT_CONFIG_DIR": str(config_dir),
        "AUTH_URL": urls.auth,
        "CHAT_URL": urls.chat,
    }


def pump(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line.rstrip("\n"))


async def test_watch_prints_history_then_each_new_message_once_in_order(
    http: httpx.AsyncClient,
    urls: Any,
    make_user: Callable[[str], Awaitable[User]],
    open_chat: Callable[[Any, Any], Awaitable[str]],
    tmp_path: Path,
) -> None:
    alice, bob = await make_user("e2ewa"), await make_user("e2ewb")
    chat_id = await open_chat(alice, bob)

    async def send(user: User, text: str) -> str:
        response = await http.post(
            f"{urls.chat}/chat/{chat_id}/messages", json={"text": text}, headers=user.headers
        )
        assert response.status_code == 201, response.text
        message_id: str = response.json()["id"]
        return message_id

    earlier = [await send(alice, f"before {i}") for i in range(5)]
    env = cli_env(tmp_path, urls)
    login = [*CHAT, "login", bob.username, "--password", bob.password]
    logged_in = subprocess.run(login, env=env, capture_output=True, text=True, timeout=60)
    assert logged_in.returncode == 0, logged_in.stderr

    watcher = subprocess.Popen(
        [*CHAT, "watch", chat_id, "--quantity", "3", "--count", "7", "--timeout", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: list[str] = []
    err: list[str] = []
    assert watcher.stdout is not None and watcher.stderr is not None
    threads = [
        threading.Thread(target=pump, args=(watcher.stdout, out), daemon=True),
        threading.Thread(target=pump, args=(watcher.stderr, err), daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 30
        while not any(line.startswith("watching chat") for line in err):
            assert watcher.poll() is None, f"watch exited early: {err}"
            assert time.monotonic() < deadline, f"watch never started listening: {err}"
            time.sleep(0.1)
        later = [await send(alice, f"live {i}") for i in range(4)]
        later += [await send(bob, f"reply {i}") for i in range(2)]
        later.append(await send(alice, "last"))
        assert watcher.wait(timeout=60) == 0, err
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    for thread in threads:
        thread.join(timeout=5)
    watcher.stdout.close()
    watcher.stderr.close()

    parsed = [LINE.match(line) for line in out]
    assert all(parsed), out
    printed = [match.group(3) for match in parsed if match]
    # The 3 most recent messages of history, then the 7 new ones: each once, in order.
    assert printed == earlier[-3:] + later
    names = [match.group(1) for match in parsed if match]
    assert names[:3] == [alice.username] * 3
    assert names[3 + 4 : 3 + 6] == [bob.username] * 2
    assert "Traceback" not in "\n".join(err)
