"""`python -m bench --quick` on the running system (`make up`): every part runs and the
report, figures and charts are written. Timing is never asserted: these are benchmarks."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_SECONDS = 600
# At least these keys, whatever the sizes (bench/README.md documents every key).
HEADLINE_KEYS = {
    "send.api_rate_per_s", "send.raw_insert_rate_per_s", "send.ratio", "send.p50_ms",
    "send.p99_ms", "send.cassandra_cpu_s_per_1000", "history.deep_p50_ms",
    "history.shallow_p50_ms", "firestore.chatty.batch_docs_per_message",
    "firestore.chatty.writes_per_message", "firestore.sporadic.batch_docs_per_message",
    "firestore.chatty.delay_p95_ms", "aggregator.rate_per_s", "aggregator.baseline_rate_per_s",
    "auth.verify.new_token_us", "auth.verify.seen_token_us", "auth.verify.bare_us", "soak.errors",
    "soak.p99_worst_minute_ms", "soak.tombstone_warnings", "soak.firestore_missing",
    "soak.firestore_duplicated", "soak.memory.chat-api.growth_pct", "endpoint.ratio",
    "worker.running.p99_ms", "worker.paused.p99_ms", "worker.paused_p99_ratio", "worker.catch_up_s",
    "endpoint.cpu_ratio", "endpoint.api.rate_per_s", "endpoint.minimal.rate_per_s",
    "endpoint.raw.rate_per_s", "endpoint.api.cpu_ms.chat-api", "endpoint.minimal.cpu_ms.endpoint",
    "endpoint.api.cassandra_writes_per_send", "endpoint.api.catch_up_s",
    "firestore.lone.delay_p50_ms", "firestore.lone.delay_p95_ms", "firestore.lone.commit_p95_ms",
}  # fmt: skip
CHARTS = {
    "send_latency_cdf.png", "send_throughput.png", "firestore_docs_per_message.png",
    "page_latency_depth.png", "soak_latency_per_minute.png",
}  # fmt: skip


def test_quick_run_writes_the_report(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    [folder] = list(tmp_path.iterdir())
    errors = folder / "errors.log"
    assert done.returncode == 0, errors.read_text() if errors.exists() else done.stderr[-3000:]
    report = (folder / "report.md").read_text()
    assert report.startswith("# Benchmark report") and "## Headline figures" in report
    assert "Parts that failed" not in report
    assert "## Chat API beside a minimal endpoint" in report
    # Every side found a settled Cassandra before it started.
    assert "still compacting" not in report
    figures = json.loads((folder / "figures.json").read_text())
    assert HEADLINE_KEYS <= figures.keys(), HEADLINE_KEYS - figures.keys()
    assert all(isinstance(v, int | float) for v in figures.values())
    assert CHARTS <= {p.name for p in folder.glob("*.png")}
    for chart in CHARTS:
        assert (folder / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({chart})" in report
