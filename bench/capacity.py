"""Capacity model: from daily users to pods, partitions, brokers, nodes, disk and Firestore cost.

    .venv/bin/python bench/capacity.py                      # 10k, 1M and 100M daily users
    .venv/bin/python bench/capacity.py --daily-users 250000 --messages-per-user 60

Measured figures come from the newest `make bench` run (bench/results/<time>/figures.json)
and the newest Cassandra probe (bench/capacity_probe.py); every figure is printed with its
source, and a missing one is reported as missing, never guessed. docs/capacity.md explains
each assumption.
"""

import argparse
import json
import math
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chat_common.contract.events import MessageCreated
from chat_service.config import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DAY = 86_400.0


@dataclass(frozen=True)
class Figure:
    """A number and where it comes from; `value` None when it was not measured."""

    value: float | None
    source: str


@dataclass(frozen=True)
class Assumptions:
    """What the model assumes rather than measures (docs/capacity.md gives the reasons)."""

    messages_per_user_per_day: float = 40.0
    peak_factor: float = 4.0  # peak-hour rate over the daily average
    target_utilization: float = 0.7  # the HPAs' CPU target
    replication: int = 3  # Kafka topics and the Cassandra keyspace
    kafka_retention_days: float = 7.0  # chat-messages retention.ms
    kafka_broker_mb_per_s: float = 50.0  # replicated produce a broker sustains
    kafka_broker_disk_tb: float = 2.0
    min_partitions: int = 12  # chat-messages in k8s/overlays/prod
    history_years: float = 1.0
    compaction_headroom: float = 2.0  # size-tiered compaction may need the data again
    cassandra_node_tb: float = 1.0  # data per node that keeps repair and streaming short
    cassandra_node_cores: int = 8
    cassandra_cpu_utilization: float = 0.5
    busy_chat_messages_per_s: float = 1.0  # sustained for a whole bucket
    # Firestore's multi-region list prices (a single region costs about half).
    firestore_usd_per_100k_writes: float = 0.18
    firestore_usd_per_100k_deletes: float = 0.02
    firestore_usd_per_100k_reads: float = 0.06


@dataclass
class Measured:
    """The measured figures the model uses, by name (see `load_measured`)."""

    figures: dict[str, Figure] = field(default_factory=dict)

    def get(self, name: str) -> float | None:
        figure = self.figures.get(name)
        return figure.value if figure else None


def event_bytes(text_chars: int) -> int:
    """Bytes of one `message.created` record (value and key) with a text of that length."""
    chat, a, b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    event = MessageCreated.of(uuid.uuid1(), chat, a, (a, b), "x" * text_chars)
    return len(event.encode()) + len(event.key())


def load_measured(results: Path = RESULTS) -> Measured:
    """The newest bench figures and Cassandra probe, each figure named with its file."""
    measured = Measured()
    bench = sorted(results.glob("*/figures.json"))
    probe = sorted(results.glob("capacity-probe/*.json"))
    wanted = {
        "send.api_rate_per_s": bench,
        "send.cassandra_cpu_s_per_1000": bench,
        "aggregator.rate_per_s": bench,
        "firestore.chatty.writes_per_message": bench,
        "firestore.sporadic.writes_per_message": bench,
        "firestore.chatty.batch_docs_per_message": bench,
        "firestore.sporadic.batch_docs_per_message": bench,
        "cassandra.bytes_per_message": probe,
        "cassandra.text_chars": probe,
        "cassandra.bytes_per_message_max_text": probe,
        "cassandra.max_text_chars": probe,
    }
    for name, files in wanted.items():
        if files and name in (data := json.loads(files[-1].read_text())):
            where = files[-1].relative_to(results.parent.parent)
            measured.figures[name] = Figure(float(data[name]), f"{where}: {name}")
        else:
            how = "make bench" if files is bench else "bench/capacity_probe.py"
            measured.figures[name] = Figure(None, f"not measured (run {how})")
    settings = Settings()
    chars = int(measured.get("cassandra.text_chars") or 80)
    measured.figures["kafka.event_bytes"] = Figure(
        float(event_bytes(chars)), f"chat_common.contract MessageCreated, {chars}-char text"
    )
    measured.figures["bucket_seconds"] = Figure(
        float(settings.MESSAGE_BUCKET_SECONDS), "chat-service MESSAGE_BUCKET_SECONDS"
    )
    measured.figures["send_rate_limit"] = Figure(
        float(settings.SEND_RATE_PER_SECOND), "chat-service SEND_RATE_PER_SECOND (per user)"
    )
    return measured


def _ceil(value: float | None, at_least: int = 0, multiple: int = 1) -> int | None:
    if value is None:
        return None
    return max(at_least, math.ceil(math.ceil(value) / multiple) * multiple)


def _times(*values: float | None) -> float | None:
    result = 1.0
    for value in values:
        if value is None:
            return None
        result *= value
    return result


def plan(daily_users: int, a: Assumptions, m: Measured) -> dict[str, float | None]:
    """Every output of the model for one load; None where a measured input is missing."""
    per_day = daily_users * a.messages_per_user_per_day
    peak = per_day / DAY * a.peak_factor
    out: dict[str, float | None] = {"messages_per_day": per_day, "peak_messages_per_s": peak}
    send_rate = m.get("send.api_rate_per_s")
    out["chat_service_pods"] = _ceil(
        send_rate and peak / (send_rate * a.target_utilization), at_least=2
    )
    agg_rate = m.get("aggregator.rate_per_s")
    aggregators = _ceil(agg_rate and peak / (agg_rate * a.target_utilization), at_least=2)
    out["aggregator_pods"] = aggregators
    # One consumer per partition at most: partitions bound the aggregator's scale-out.
    out["kafka_partitions"] = aggregators and _ceil(
        max(a.min_partitions, aggregators), multiple=a.replication
    )
    event = m.get("kafka.event_bytes") or 0.0
    replicated_mb_s = peak * event * a.replication / 1e6
    out["kafka_peak_replicated_mb_s"] = replicated_mb_s
    retained_tb = per_day * event * a.kafka_retention_days * a.replication / 1e12
    brokers = max(
        _ceil(replicated_mb_s / a.kafka_broker_mb_per_s, at_least=a.replication) or 0,
        _ceil(retained_tb / a.kafka_broker_disk_tb) or 0,
    )
    out["kafka_brokers"] = brokers
    out["kafka_disk_gb_per_broker"] = retained_tb * 1000 / brokers
    stored = _times(
        per_day * 365 * a.history_years,
        m.get("cassandra.bytes_per_message"),
        a.replication,
        a.compaction_headroom,
    )
    out["cassandra_disk_tb"] = stored and stored / 1e12
    by_disk = _ceil(stored and stored / (a.cassandra_node_tb * 1e12))
    cpu = m.get("send.cassandra_cpu_s_per_1000")
    cores = _times(peak, cpu and cpu / 1000, a.replication)
    by_cpu = _ceil(cores and cores / (a.cassandra_node_cores * a.cassandra_cpu_utilization))
    out["cassandra_nodes_by_disk"] = by_disk
    out["cassandra_nodes_by_cpu"] = by_cpu
    # Both bounds or nothing: the disk bound alone could understate a write-heavy load.
    both = None if by_disk is None or by_cpu is None else max(by_disk, by_cpu)
    out["cassandra_nodes"] = _ceil(both, a.replication, a.replication)
    bucket = m.get("bucket_seconds")
    out["busy_partition_mb"] = _times(
        a.busy_chat_messages_per_s, bucket, m.get("cassandra.bytes_per_message"), 1e-6
    )
    # Both members at the per-user send limit, every message at the longest text.
    out["worst_partition_mb"] = _times(
        2, m.get("send_rate_limit"), bucket, m.get("cassandra.bytes_per_message_max_text"), 1e-6
    )
    month = per_day * 30
    for shape in ("chatty", "sporadic"):
        writes = m.get(f"firestore.{shape}.writes_per_message")
        # Every batch document is deleted again by the TTL policy: a delete per document.
        docs = m.get(f"firestore.{shape}.batch_docs_per_message")
        out[f"firestore_writes_per_day_{shape}"] = _times(per_day, writes)
        out[f"firestore_usd_per_month_{shape}"] = _firestore_usd(month, writes, docs, a)
    out["firestore_writes_per_day_one_doc_per_message"] = per_day
    out["firestore_usd_per_month_one_doc_per_message"] = _firestore_usd(month, 1.0, 1.0, a)
    return out


def _firestore_usd(
    messages: float, writes: float | None, deletes: float | None, a: Assumptions
) -> float | None:
    """Cost of `messages` messages' writes, listener reads and TTL deletes, by the price list.

    `deletes` is the batch documents per message. Listeners read every written document:
    a batch document once by each of the two members, inbox and receipt documents once by
    the one member they are for, so reads = writes + batch documents.
    """
    if writes is None or deletes is None:
        return None
    usd_per_100k = writes * a.firestore_usd_per_100k_writes
    usd_per_100k += (writes + deletes) * a.firestore_usd_per_100k_reads
    usd_per_100k += deletes * a.firestore_usd_per_100k_deletes
    return messages * usd_per_100k / 1e5


Row = tuple[str, str, Callable[[float], str]]


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:,.2f}"


def _count(value: float) -> str:
    return f"{value:,.0f}"


ROWS: list[Row] = [
    ("messages_per_day", "messages per day", _n),
    ("peak_messages_per_s", "peak messages/s", _n),
    ("chat_service_pods", "chat-service pods (sends)", _count),
    ("aggregator_pods", "aggregator pods", _count),
    ("kafka_partitions", "Kafka partitions, chat-messages", _count),
    ("kafka_peak_replicated_mb_s", "Kafka peak replicated MB/s", _n),
    ("kafka_brokers", "Kafka brokers", _count),
    ("kafka_disk_gb_per_broker", "Kafka disk per broker, GB", _n),
    ("cassandra_disk_tb", "Cassandra disk, TB (RF, headroom)", _n),
    ("cassandra_nodes_by_disk", "Cassandra nodes for disk", _count),
    ("cassandra_nodes_by_cpu", "Cassandra nodes for CPU", _count),
    ("cassandra_nodes", "Cassandra nodes", _count),
    ("busy_partition_mb", "largest partition, busy chat, MB", _n),
    ("worst_partition_mb", "largest partition, at the limits, MB", _n),
    ("firestore_writes_per_day_chatty", "Firestore writes/day, chatty", _n),
    ("firestore_writes_per_day_sporadic", "Firestore writes/day, sporadic", _n),
    ("firestore_writes_per_day_one_doc_per_message", "  one doc per message", _n),
    ("firestore_usd_per_month_chatty", "Firestore $/month, chatty", _n),
    ("firestore_usd_per_month_sporadic", "Firestore $/month, sporadic", _n),
    ("firestore_usd_per_month_one_doc_per_message", "  one doc per message", _n),
]


def table(loads: list[int], a: Assumptions, m: Measured) -> str:
    plans = [plan(users, a, m) for users in loads]
    head = "| daily active users | " + " | ".join(f"{u:,}" for u in loads) + " |"
    lines = [head, "|---" * (len(loads) + 1) + "|"]
    for key, label, fmt in ROWS:
        cells = [fmt(value) if (value := p[key]) is not None else "not measured" for p in plans]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--daily-users", type=int, nargs="+", default=[10_000, 1_000_000, 10**8])
    parser.add_argument("--messages-per-user", type=float, default=40.0)
    parser.add_argument("--peak-factor", type=float, default=4.0)
    parser.add_argument("--history-years", type=float, default=1.0)
    args = parser.parse_args(argv)
    a = Assumptions(
        messages_per_user_per_day=args.messages_per_user,
        peak_factor=args.peak_factor,
        history_years=args.history_years,
    )
    m = load_measured()
    print(table(args.daily_users, a, m))
    print("\nInputs: " + ", ".join(f"{k} = {v}" for k, v in a.__dict__.items()))
    print("\nMeasured figures and their sources:")
    for name, figure in m.figures.items():
        value = "—" if figure.value is None else f"{figure.value:,.3f}"
        print(f"- {name} = {value}  ({figure.source})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
