"""bench/capacity.py: the model's arithmetic, and measured figures read with their source."""

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

PATH = Path(__file__).resolve().parents[2] / "bench" / "capacity.py"


@pytest.fixture(scope="module")
def capacity() -> ModuleType:
    # bench/ is a folder of scripts, not an installed package: load the file itself.
    spec = importlib.util.spec_from_file_location("capacity", PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["capacity"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def measured(capacity: ModuleType, **values: float) -> object:
    m = capacity.Measured()
    for name, value in values.items():
        m.figures[name.replace("__", ".")] = capacity.Figure(value, "test")
    return m


FULL = {
    "send__api_rate_per_s": 500.0,
    "send__cassandra_cpu_s_per_1000": 2.0,
    "aggregator__rate_per_s": 4000.0,
    "firestore__chatty__writes_per_message": 0.3,
    "firestore__chatty__batch_docs_per_message": 0.2,
    "firestore__sporadic__writes_per_message": 2.0,
    "firestore__sporadic__batch_docs_per_message": 1.0,
    "cassandra__bytes_per_message": 100.0,
    "cassandra__bytes_per_message_max_text": 2000.0,
    "kafka__event_bytes": 400.0,
    "bucket_seconds": 3600.0,
    "send_rate_limit": 10.0,
}


def test_peak_rate_and_pods(capacity: ModuleType) -> None:
    a = capacity.Assumptions()
    out = capacity.plan(1_000_000, a, measured(capacity, **FULL))
    peak = 1_000_000 * 40 / 86_400 * 4
    assert out["peak_messages_per_s"] == pytest.approx(peak)
    assert out["chat_service_pods"] == math.ceil(peak / (500 * 0.7))
    # A small load still runs two of everything.
    small = capacity.plan(100, a, measured(capacity, **FULL))
    assert small["chat_service_pods"] == small["aggregator_pods"] == 2


def test_kafka_partitions_cover_the_aggregators_and_brokers_the_disk(
    capacity: ModuleType,
) -> None:
    a = capacity.Assumptions()
    out = capacity.plan(100_000_000, a, measured(capacity, **FULL))
    aggregators = out["aggregator_pods"]
    assert aggregators > 12
    assert out["kafka_partitions"] >= aggregators and out["kafka_partitions"] % 3 == 0
    retained_gb = 4e9 * 400 * 7 * 3 / 1e9
    assert out["kafka_brokers"] == max(3, math.ceil(retained_gb / 2000))
    assert out["kafka_disk_gb_per_broker"] * out["kafka_brokers"] == pytest.approx(retained_gb)


def test_cassandra_nodes_are_the_larger_of_disk_and_cpu_in_whole_racks(
    capacity: ModuleType,
) -> None:
    a = capacity.Assumptions()
    out = capacity.plan(1_000_000, a, measured(capacity, **FULL))
    stored_tb = 40e6 * 365 * 100 * 3 * 2 / 1e12
    assert out["cassandra_disk_tb"] == pytest.approx(stored_tb)
    assert out["cassandra_nodes_by_disk"] == math.ceil(stored_tb)
    cores = out["peak_messages_per_s"] * 2.0 / 1000 * 3
    assert out["cassandra_nodes_by_cpu"] == math.ceil(cores / (8 * 0.5))
    nodes = out["cassandra_nodes"]
    assert nodes % 3 == 0
    assert nodes >= max(out["cassandra_nodes_by_disk"], out["cassandra_nodes_by_cpu"], 3)
    assert nodes - 3 < max(out["cassandra_nodes_by_disk"], out["cassandra_nodes_by_cpu"])


def test_partition_sizes_follow_the_bucket(capacity: ModuleType) -> None:
    out = capacity.plan(10_000, capacity.Assumptions(), measured(capacity, **FULL))
    assert out["busy_partition_mb"] == pytest.approx(1.0 * 3600 * 100 / 1e6)
    assert out["worst_partition_mb"] == pytest.approx(2 * 10 * 3600 * 2000 / 1e6)


def test_firestore_cost_against_one_document_per_message(capacity: ModuleType) -> None:
    out = capacity.plan(1_000_000, capacity.Assumptions(), measured(capacity, **FULL))
    month = 40e6 * 30
    # Writes, then listener reads (both members read a batch document), then TTL deletes.
    assert out["firestore_usd_per_month_one_doc_per_message"] == pytest.approx(
        month * (0.18 + 2 * 0.06 + 0.02) / 1e5
    )
    assert out["firestore_usd_per_month_chatty"] == pytest.approx(
        month * (0.3 * 0.18 + (0.3 + 0.2) * 0.06 + 0.2 * 0.02) / 1e5
    )
    assert out["firestore_writes_per_day_sporadic"] == pytest.approx(40e6 * 2.0)


def test_a_missing_figure_is_reported_not_guessed(capacity: ModuleType) -> None:
    partial = {k: v for k, v in FULL.items() if not k.startswith(("send__", "firestore__"))}
    m = measured(capacity, **partial)
    out = capacity.plan(1_000_000, capacity.Assumptions(), m)
    assert out["chat_service_pods"] is None
    assert out["firestore_usd_per_month_chatty"] is None
    # Cassandra's CPU figure comes from the send bench: without it, no node count.
    assert out["cassandra_nodes_by_disk"] is not None and out["cassandra_nodes"] is None
    table = capacity.table([1_000_000], capacity.Assumptions(), m)
    assert "| chat-service pods (sends) | not measured |" in table


def test_figures_come_from_the_newest_run_with_their_source(
    capacity: ModuleType, tmp_path: Path
) -> None:
    results = tmp_path / "bench" / "results"
    for stamp, rate in (("2026-01-01T00-00-00Z", 1.0), ("2026-02-01T00-00-00Z", 2.0)):
        (results / stamp).mkdir(parents=True)
        (results / stamp / "figures.json").write_text(json.dumps({"send.api_rate_per_s": rate}))
    m = capacity.load_measured(results)
    figure = m.figures["send.api_rate_per_s"]
    assert figure.value == 2.0
    assert "2026-02-01T00-00-00Z/figures.json" in figure.source
    assert m.figures["aggregator.rate_per_s"].value is None
    assert "not measured" in m.figures["cassandra.bytes_per_message"].source


def test_event_bytes_are_the_encoded_contract_event(capacity: ModuleType) -> None:
    assert capacity.event_bytes(100) - capacity.event_bytes(10) == 90
