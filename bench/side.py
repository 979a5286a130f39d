"""What one side of the endpoint comparison (`bench/endpoint.py`) measured."""

import math
from collections import Counter
from dataclasses import dataclass, field

# The Firestore emulator stands in for a managed service: listed, left out of the sums.
EXCLUDED = ("firestore",)


@dataclass
class Side:
    """One thing measured: its rate, latencies and the CPU each process spent on it."""

    name: str
    sends: int = 0
    seconds: float = 0.0  # under load, all rounds together
    latencies: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds
    settle_seconds: float = math.nan  # the longest wait for a settled Cassandra
    still_compacting: list[str] = field(default_factory=list)
    compacting_reads: int = 0
    catch_up_seconds: float = math.nan  # end of a round -> consumers applied it (longest)
    writes: Counter[str] = field(default_factory=Counter)

    def add_round(
        self, cpu: dict[str, float], writes: Counter[str], settle: float, catch_up: float
    ) -> None:
        """Add one round's CPU seconds and writes; keep the longest waits."""
        for process, seconds in cpu.items():
            self.cpu[process] = self.cpu.get(process, 0.0) + seconds
        self.writes += writes
        self.settle_seconds = _longest(self.settle_seconds, settle)
        self.catch_up_seconds = _longest(self.catch_up_seconds, catch_up)

    @property
    def rate(self) -> float:
        return self.sends / self.seconds if self.seconds else math.nan

    def cpu_ms(self, process: str) -> float:
        return self.cpu.get(process, math.nan) * 1000 / self.sends if self.sends else math.nan

    def cpu_ms_counted(self) -> float:
        counted = [p for p in self.cpu if p not in EXCLUDED]
        return sum(self.cpu_ms(p) for p in counted)


def _longest(known: float, new: float) -> float:
    return new if math.isnan(known) else max(known, new)
