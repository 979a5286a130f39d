"""The alert rules offline: valid for promtool, every alert unit-tested both ways
(`promtool test rules`), and the name scan the live checks rely on."""

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "monitoring"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *args], cwd=MONITORING, capture_output=True, text=True, timeout=120
    )


def test_promtool_accepts_the_rules() -> None:
    done = promtool("check", "rules", "alerts.rules.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_unit_tests_pass() -> None:
    done = promtool("test", "rules", "alerts.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def test_every_alert_has_a_firing_and_a_silent_case(
    alerts: dict[str, Any], rule_tests: dict[str, Any]
) -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for case in rule_tests["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    assert set(alerts) - firing == set(), "alerts no test fires"
    assert set(alerts) - silent == set(), "alerts no test shows silent"
    assert (firing | silent) <= set(alerts), "tests of alerts that do not exist"


def test_every_alert_says_what_and_how_bad(alerts: dict[str, Any]) -> None:
    for name, alert in alerts.items():
        assert alert["labels"]["severity"] in {"critical", "warning"}, name
        assert {"summary", "description"} <= set(alert["annotations"]), name


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / '
            "sum by (job) (rate(http_requests_total[5m])) > 0.05",
            {"http_requests_total"},
        ),
        (
            "sum(increase(chat_messages_stored_total[10m])) > 0 unless "
            "sum(increase(aggregator_firestore_writes_total[10m])) > 0",
            {"chat_messages_stored_total", "aggregator_firestore_writes_total"},
        ),
        (
            'rate(x_total{reason!="expired"}[1h] offset 5m) > 5 * chat:send_slow:ratio_rate5m',
            {"x_total", "chat:send_slow:ratio_rate5m"},
        ),
        (
            'histogram_quantile(0.99, sum by (le) (rate(h_bucket{route="/chat/{chat_id}"}[5m])))',
            {"h_bucket"},
        ),
        ('up{job=~"a|b"} == 0 or vector(0.25)', {"up"}),
    ],
)
def test_the_name_scan_finds_exactly_the_series(
    names_in: Callable[[str], set[str]], expr: str, names: set[str]
) -> None:
    assert names_in(expr) == names
