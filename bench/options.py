"""Sizes, durations and addresses of one bench run: the issue's defaults, or `--quick`."""

import argparse
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Options:
    """Everything a run can be told; field names are the command-line options."""

    concurrency: tuple[int, ...] = (1, 10, 50, 100)
    headline_senders: int = 50
    sends_per_level: int = 2_000
    raw_rows: int = 20_000
    deep: int = 1_000_000
    depths: tuple[int, ...] = (100, 1_000, 10_000, 100_000, 1_000_000)
    page_rounds: int = 200
    shape_seconds: float = 20.0
    sporadic_senders: int = 6
    backlog: int = 20_000
    tokens: int = 10_000
    logins: int = 20
    soak_seconds: float = 600.0
    soak_rate: float = 300.0
    soak_pairs: int = 50
    # The API beside a minimal endpoint (bench/endpoint.py): headline_senders closed-loop
    # senders spread these sends over these pairs; then the lone message's sends.
    endpoint_sends: int = 3_000
    endpoint_pairs: int = 100
    endpoint_rounds: int = 3  # each side's sends in this many rounds, alternating sides
    lone_messages: int = 32
    settle_seconds: float = 300.0  # the longest wait for Cassandra's compactions to end
    auth_url: str = os.environ.get("BENCH_AUTH_URL", "http://127.0.0.1:8001")
    chat_url: str = os.environ.get("BENCH_CHAT_URL", "http://127.0.0.1:8002")
    # The running chat-worker's ops port: its inbox projection's progress (/metrics).
    worker_url: str = os.environ.get("BENCH_WORKER_URL", "http://127.0.0.1:8004")
    aggregator_url: str = os.environ.get("BENCH_AGGREGATOR_URL", "http://127.0.0.1:8003")
    kafka: str = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    firestore: str = os.environ.get("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8080")
    firestore_project: str = os.environ.get("FIRESTORE_PROJECT", "demo-chat")
    keyspace: str = os.environ.get("BENCH_KEYSPACE", "chat_bench")
    private_port: int = int(os.environ.get("BENCH_PORT", "18002"))
    endpoint_port: int = int(os.environ.get("BENCH_ENDPOINT_PORT", "18003"))
    state: Path = ROOT / ".state"
    out: Path = ROOT / "bench" / "results"
    only: tuple[str, ...] = field(default=())
    compare: Path | None = None

    def kafka_access(self) -> dict[str, Any]:
        """aiokafka keyword arguments for the Kafka user in the environment (`bench`)."""
        return kafka_client_kwargs(KafkaAccessSettings())


QUICK: dict[str, Any] = {
    "concurrency": (1, 10),
    "headline_senders": 10,
    "sends_per_level": 100,
    "raw_rows": 500,
    "deep": 2_000,
    "depths": (100, 1_000),
    "page_rounds": 20,
    "shape_seconds": 4.0,
    "sporadic_senders": 3,
    "backlog": 500,
    "tokens": 300,
    "logins": 3,
    "soak_seconds": 15.0,
    "soak_rate": 20.0,
    "soak_pairs": 4,
    "endpoint_sends": 300,
    "endpoint_pairs": 10,
    "endpoint_rounds": 1,
    "lone_messages": 4,
    "settle_seconds": 60.0,
}


def _tuple_of_ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def add_arguments(parser: argparse.ArgumentParser, names: list[str]) -> None:
    """One `--name` option per field in `names`, typed like the field, default None."""
    defaults = Options()
    for item in fields(Options):
        if item.name not in names:
            continue
        value = getattr(defaults, item.name)
        kind: object = type(value)
        if isinstance(value, tuple):
            kind = _tuple_of_ints if item.name != "only" else lambda t: tuple(t.split(","))
        elif value is None:
            kind = Path
        parser.add_argument(
            f"--{item.name.replace('_', '-')}",
            type=kind,  # type: ignore[arg-type]
            default=None,
            help=f"default {value}"
            + (f", --quick {QUICK[item.name]}" if item.name in QUICK else ""),
        )
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds not minutes")


def from_arguments(args: argparse.Namespace) -> Options:
    """The defaults, then `--quick`'s sizes, then every option given explicitly."""
    options = replace(Options(), **QUICK) if args.quick else Options()
    given = {
        item.name: getattr(args, item.name)
        for item in fields(Options)
        if getattr(args, item.name, None) is not None
    }
    return replace(options, **given)
