"""The bench's own pure parts: statistics, options, system probes, the report writer."""

import argparse
import asyncio
import gc
import json
import math
from collections import Counter
from pathlib import Path

import pytest

from bench import procs, settle
from bench.collector import no_full_collections
from bench.options import QUICK, Options, add_arguments, from_arguments
from bench.results import Headline, Results, write
from bench.side import Side
from bench.soak.minutes import Sample, rows_of, served
from bench.stats import cdf, per_minute, percentile, ratio


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([7.0], 0.99) == 7
    assert math.isnan(percentile([], 0.5))


def test_cdf_ratio_and_minutes() -> None:
    assert cdf([3.0, 1.0, 2.0]) == ([1.0, 2.0, 3.0], [1 / 3, 2 / 3, 1.0])
    assert ratio(1.0, 4.0) == 0.25
    assert math.isnan(ratio(1.0, 0.0))
    grouped = per_minute([(100.0, 1.0), (159.0, 2.0), (160.0, 3.0), (281.0, 4.0)], 100.0)
    assert grouped == {0: [1.0, 2.0], 1: [3.0], 3: [4.0]}


def _options(*argv: str) -> Options:
    parser = argparse.ArgumentParser()
    add_arguments(parser, ["concurrency", "soak_seconds", "soak_rate", "only"])
    return from_arguments(parser.parse_args(list(argv)))


def test_options_defaults_quick_and_overrides() -> None:
    assert _options().soak_seconds == 600 and _options().soak_rate == 300
    assert _options().concurrency == (1, 10, 50, 100)
    quick = _options("--quick")
    assert quick.soak_seconds == QUICK["soak_seconds"] and quick.deep == QUICK["deep"]
    given = _options("--quick", "--soak-rate", "50", "--concurrency", "2,4", "--only", "soak")
    assert (given.soak_rate, given.concurrency, given.only) == (50, (2, 4), ("soak",))
    assert given.soak_seconds == QUICK["soak_seconds"]


def test_commit_log_mode_is_read_from_the_generated_config(tmp_path: Path) -> None:
    (tmp_path / "cassandra").mkdir()
    config = tmp_path / "cassandra" / "cassandra.yaml"
    config.write_text("cluster_name: x\ncommitlog_sync: group\ncommitlog_sync_group_window: 10ms\n")
    assert procs.commit_log(tmp_path) == procs.CommitLog("group", 10.0)
    config.write_text("commitlog_sync: periodic\ncommitlog_sync_period: 10s\n")
    assert procs.commit_log(tmp_path) == procs.CommitLog("periodic", 10_000.0)
    config.write_text("commitlog_sync: batch\n")
    assert procs.commit_log(tmp_path) == procs.CommitLog("batch", None)


def test_log_watch_counts_only_new_tombstone_warnings(tmp_path: Path) -> None:
    log = tmp_path / "cassandra.log"
    old = "WARN Read 0 live rows and 20000 tombstone cells for query SELECT ...\n"
    log.write_text("INFO Node configuration:[tombstone_warn_threshold=1000]\n" + old)
    watch = procs.LogWatch(log)
    with log.open("a") as out:
        out.write("INFO compaction\n" + old + "ERROR Scanned over 100001 tombstones during query\n")
    assert len(watch.new_lines(procs.TOMBSTONE_WARNING)) == 2


def test_memory_and_cpu_of_this_process(tmp_path: Path) -> None:
    import os

    (tmp_path / "chat-api").mkdir()
    (tmp_path / "chat-api" / "pid").write_text(str(os.getpid()))
    memory = procs.memory(tmp_path)
    mine = memory["chat-api"]
    assert mine is not None and mine.pid == os.getpid() and mine.mib > 1
    assert memory["cassandra"] is None
    assert procs.cpu_seconds(os.getpid()) > 0


def test_growth_only_of_the_same_process() -> None:
    assert procs.growth_pct(procs.Resident(7, 100.0), procs.Resident(7, 110.0)) == 10.0
    assert procs.growth_pct(procs.Resident(7, 100.0), procs.Resident(8, 50.0)) is None
    assert procs.growth_pct(None, procs.Resident(8, 50.0)) is None


def test_report_and_figures_are_written(tmp_path: Path) -> None:
    results = Results(tmp_path)
    results.figure("send.api_rate_per_s", 500.0)
    results.figure("send.unmeasured", float("nan"))
    results.headline(Headline("Send rate", 500.0, "msg/s", "raw insert", 1000.0, "≥ 0.5"))
    results.headline(Headline("Commit log: batch", None, "ms window"))
    results.section("Send", "body")
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "figures.json").write_text(json.dumps({"send.api_rate_per_s": 250.0}))
    report = write(results, earlier).read_text()
    assert "| Send rate | 500 msg/s | raw insert: 1,000 | 0.50 | ≥ 0.5 |" in report
    assert "| Commit log: batch | — ms window | — | — |  |" in report
    assert "| `send.api_rate_per_s` | 250 | 500 | 2.00 |" in report
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures == {"send.api_rate_per_s": 500.0}


def test_no_full_collections_while_measuring_then_the_thresholds_are_back() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), no_full_collections():
        young, middle, full = gc.get_threshold()
        assert (young, middle) == before[:2] and full > 10**6
        raise RuntimeError("a load that fails")
    assert gc.get_threshold() == before


def test_server_side_minute_from_two_histogram_readings() -> None:
    before = {0.05: 10.0, 0.1: 10.0, 0.25: 10.0, float("inf"): 10.0}
    # 100 sends between the readings: 90 within 50 ms, 8 more within 100 ms, 2 within 250 ms.
    after = {0.05: 100.0, 0.1: 108.0, 0.25: 110.0, float("inf"): 110.0}
    sends, within, p99 = served(before, after)
    assert (sends, within, p99) == (100.0, 98.0, 250.0)
    assert math.isnan(served(after, after)[1])


def _sample_at(at: float) -> Sample:
    return Sample(at=at, memory={}, buckets={}, cpu={})


def test_the_moment_after_the_last_minute_joins_it() -> None:
    start, one, two, end = (_sample_at(t) for t in (0.0, 60.0, 120.0, 120.8))
    assert rows_of([start, one, two, end]) == [start, one, end]
    # A load that ends well past its last full minute keeps that part as a row of its own.
    late_end = _sample_at(170.0)
    assert rows_of([start, one, two, late_end]) == [start, one, two, late_end]
    # A load shorter than a minute is one row, however short.
    assert rows_of([start, _sample_at(5.0)]) == [start, _sample_at(5.0)]


class _Tasks:
    """A session whose `system_views.sstable_tasks` answers one listed read after another."""

    def __init__(self, *reads: list[dict[str, str]]) -> None:
        self.reads = list(reads)

    def execute(self, _cql: str) -> list[dict[str, str]]:
        return self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]


_COMPACTION = {"kind": "compaction", "keyspace_name": "chat", "table_name": "message"}


def test_settled_after_enough_empty_reads_in_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settle, "POLL_SECONDS", 0.0)
    session = _Tasks([_COMPACTION], [], [_COMPACTION], [], [], [])
    waited, still = asyncio.run(settle.until_settled(session, timeout=60))
    assert still == [] and waited < 60
    assert session.reads == [[]]  # the sixth read was the third empty one in a row


def test_still_compacting_when_the_wait_runs_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settle, "POLL_SECONDS", 0.0)
    session = _Tasks([_COMPACTION])
    waited, still = asyncio.run(settle.until_settled(session, timeout=0))
    assert still == ["compaction chat.message"]


def test_cpu_meter_and_running_pids(tmp_path: Path) -> None:
    import os

    (tmp_path / "chat-worker").mkdir()
    (tmp_path / "chat-worker" / "pid").write_text(str(os.getpid()))
    (tmp_path / "aggregator").mkdir()
    (tmp_path / "aggregator" / "pid").write_text(str(os.getpid()))
    pids = procs.running_pids(tmp_path, ("aggregator",))
    assert pids == {"chat-worker": os.getpid()}
    meter = procs.CpuMeter({**pids, "gone": 2**22 + 7})
    meter.start()
    sum(i * i for i in range(200_000))  # some CPU time for this process
    used = meter.stop()
    assert used["chat-worker"] >= 0 and math.isnan(used["gone"])


def test_cpu_per_send_leaves_the_firestore_emulator_out() -> None:
    side = Side("chat API", sends=1_000)
    side.cpu = {"chat-api": 1.0, "cassandra": 2.0, "firestore": 0.5}
    assert side.cpu_ms("chat-api") == 1.0 and side.cpu_ms("firestore") == 0.5
    assert side.cpu_ms_counted() == 3.0
    assert math.isnan(side.cpu_ms("kafka"))
    side.seconds = 2.0
    assert side.rate == 500


def test_quick_sizes_the_endpoint_part_down() -> None:
    quick = _options("--quick")
    assert (quick.endpoint_sends, quick.endpoint_pairs) == (300, 10)
    assert _options().endpoint_sends == 3_000 and _options().endpoint_pairs == 100


def test_rounds_add_up_and_keep_the_longest_waits() -> None:
    side = Side("chat API")
    side.add_round({"chat-api": 1.0}, Counter({"ks.message": 10}), 2.0, math.nan)
    side.add_round({"chat-api": 0.5, "kafka": 0.1}, Counter({"ks.message": 5}), 3.5, 0.4)
    side.add_round({"chat-api": 0.5}, Counter(), 2.0, 0.2)
    assert side.cpu == {"chat-api": 2.0, "kafka": 0.1}
    assert side.writes == Counter({"ks.message": 15})
    assert (side.settle_seconds, side.catch_up_seconds) == (3.5, 0.4)
