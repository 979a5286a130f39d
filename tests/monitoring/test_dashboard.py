"""The Grafana dashboard offline (no Grafana here): valid JSON in the shape Grafana's
dashboard model has, panels laid out on its 24-column grid, and every query valid PromQL
(promtool checks each as a recording rule)."""

import subprocess
from pathlib import Path
from typing import Any

import yaml

TOP_LEVEL = {"uid": str, "title": str, "schemaVersion": int, "panels": list, "time": dict}


def test_top_level_shape(dashboard: dict[str, Any]) -> None:
    for key, kind in TOP_LEVEL.items():
        assert isinstance(dashboard.get(key), kind), f"{key} must be a {kind.__name__}"
    assert dashboard["uid"] == "chat-backend"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_panels_have_unique_ids_and_fit_the_grid(dashboard: dict[str, Any]) -> None:
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in ("h", "w", "x", "y")), panel["title"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]
        assert panel["type"] in {"row", "timeseries", "stat"}, panel["title"]


def test_every_query_panel_reads_the_datasource_variable(dashboard: dict[str, Any]) -> None:
    queries = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert queries
    for panel in queries:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert ref_ids and len(ref_ids) == len(set(ref_ids)), panel["title"]
        assert all(t["expr"].strip() for t in panel["targets"]), panel["title"]


def test_the_dashboard_covers_what_operators_asked_for(dashboard_exprs: dict[str, str]) -> None:
    text = "\n".join(dashboard_exprs.values())
    for needed in (
        "http_requests_total",  # traffic and errors per service
        "http_request_duration_seconds_bucket",  # latency
        "process_cpu_seconds_total",  # saturation
        "chat_consumer_lag_records",
        "chat_outbox_unannounced_age_seconds",
        "aggregator_firestore_writes_total",  # Firestore writes and batches per message
        "aggregator_messages_written_total",
    ):
        assert needed in text, needed


def test_every_query_is_valid_promql(dashboard_exprs: dict[str, str], tmp_path: Path) -> None:
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query:{n}", "expr": expr}
                    for n, expr in enumerate(dashboard_exprs.values())
                ],
            }
        ]
    }
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump(rules))
    done = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
