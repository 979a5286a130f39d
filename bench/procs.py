"""The local system `make up` runs, seen from /proc and .state/: pids, memory, CPU, logs."""

import os
import re
from dataclasses import dataclass
from pathlib import Path

COMPONENTS = (
    "postgres",
    "kafka",
    "cassandra",
    "firestore",
    "auth-service",
    "chat-api",
    "chat-worker",
    "aggregator",
)
# Cassandra's warning when a read walks past tombstone_warn_threshold, and its error
# when one passes tombstone_failure_threshold.
TOMBSTONE_WARNING = re.compile(r"\d+ tombstone cells for query|Scanned over \d+ tombstones")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def pid_of(state: Path, component: str) -> int | None:
    """The pid `make up` recorded for `component`, if that process is alive."""
    try:
        pid = int((state / component / "pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def rss_mib(pid: int) -> float | None:
    """Resident memory of a process, MiB (None once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime


@dataclass(frozen=True)
class Resident:
    """One process's resident memory at one moment."""

    pid: int
    mib: float


def memory(state: Path) -> dict[str, Resident | None]:
    """Resident memory of every component, None for one that is not running."""
    result: dict[str, Resident | None] = {}
    for component in COMPONENTS:
        pid = pid_of(state, component)
        mib = rss_mib(pid) if pid else None
        result[component] = Resident(pid, mib) if pid and mib is not None else None
    return result


def growth_pct(start: Resident | None, end: Resident | None) -> float | None:
    """How much one process grew, percent; None unless the same process was seen twice
    (a component restarted in between has no growth to speak of)."""
    if start is None or end is None or start.pid != end.pid:
        return None
    return (end.mib - start.mib) / start.mib * 100


@dataclass(frozen=True)
class CommitLog:
    """How the running Cassandra syncs its commit log (from its generated config)."""

    mode: str
    window_ms: float | None  # group window, or the period of periodic mode

    def describe(self) -> str:
        return self.mode if self.window_ms is None else f"{self.mode} ({self.window_ms:g} ms)"


def _setting(config: str, name: str) -> str | None:
    match = re.search(rf"^{name}:\s*(\S+)", config, re.MULTILINE)
    return match.group(1) if match else None


def _millis(value: str | None) -> float | None:
    match = re.fullmatch(r"([\d.]+)\s*(ms|s)?", value or "")
    if not match:
        return None
    return float(match.group(1)) * (1000 if match.group(2) == "s" else 1)


def commit_log(state: Path) -> CommitLog:
    """Read from the cassandra.yaml `make up` generated (top-level `key: value` lines)."""
    config = (state / "cassandra" / "cassandra.yaml").read_text()
    mode = _setting(config, "commitlog_sync") or "unknown"
    window = {
        "group": _setting(config, "commitlog_sync_group_window"),
        "periodic": _setting(config, "commitlog_sync_period"),
    }.get(mode)
    return CommitLog(mode, _millis(window))


class LogWatch:
    """Lines a log gains from now on (it counts only what is appended after creation)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0

    def new_lines(self, pattern: re.Pattern[str]) -> list[str]:
        if not self.path.exists():
            return []
        size = self.path.stat().st_size
        start = self.offset if size >= self.offset else 0  # rotated: read it all
        with self.path.open("rb") as log:
            log.seek(start)
            text = log.read().decode("utf-8", "replace")
        return [line for line in text.splitlines() if pattern.search(line)]


def cpu_or_nan(pid: int) -> float:
    """`cpu_seconds`, NaN once the process is gone."""
    try:
        return cpu_seconds(pid)
    except (OSError, IndexError, ValueError):
        return float("nan")


class CpuMeter:
    """CPU seconds each named process used between `start()` and `stop()`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.before: dict[str, float] = {}

    def start(self) -> None:
        self.before = {name: cpu_or_nan(pid) for name, pid in self.pids.items()}

    def stop(self) -> dict[str, float]:
        return {name: cpu_or_nan(pid) - self.before[name] for name, pid in self.pids.items()}


def running_pids(state: Path, leave_out: tuple[str, ...] = ()) -> dict[str, int]:
    """Every component `make up` runs now, by name, but those in `leave_out`."""
    pids = {c: pid_of(state, c) for c in COMPONENTS if c not in leave_out}
    return {c: pid for c, pid in pids.items() if pid is not None}
