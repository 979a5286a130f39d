"""Background processes recorded by pid file: start, find, stop, and their logs."""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from infra.stack.paths import REPO, state_dir


def pid_file(name: str) -> Path:
    return state_dir(name) / "pid"


def log_file(name: str) -> Path:
    return state_dir(name) / f"{name}.log"


def running_pid(name: str) -> int | None:
    """The recorded pid of `name` if that process is still alive, else None."""
    path = pid_file(name)
    try:
        pid = int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return None
    except PermissionError:
        return pid
    # A zombie child of ours is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return pid
    return None if state == "Z" else pid


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def start(name: str, argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Start `argv` detached (own session), output to the component's log; record the pid."""
    log = log_file(name).open("ab")
    process = subprocess.Popen(
        list(argv),
        cwd=REPO,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # survives `make up` returning; its own process group
    )
    log.close()
    pid_file(name).write_text(f"{process.pid}\n")
    return process.pid


def stop(name: str, stop_signal: signal.Signals, timeout: float) -> bool:
    """Signal the recorded process, wait up to `timeout` s, then kill its whole group."""
    pid = running_pid(name)
    if pid is None:
        pid_file(name).unlink(missing_ok=True)
        return False
    try:
        os.kill(pid, stop_signal)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running_pid(name) is not None:
        time.sleep(0.2)
    try:  # the group catches children a server left behind (or one that ignored the signal)
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    pid_file(name).unlink(missing_ok=True)
    return True


def rss_mib(pid: int) -> float | None:
    """Resident memory of a process in MiB (from /proc), or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return None


def log_tail(name: str, lines: int = 40) -> str:
    try:
        return "\n".join(log_file(name).read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
