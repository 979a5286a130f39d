"""Fixtures of the monitoring checks: the alert rules, the dashboard and the series names
their PromQL reads."""

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "monitoring" / "alerts.rules.yml"
RULE_TESTS = REPO / "monitoring" / "alerts.test.yml"
DASHBOARD = REPO / "k8s" / "overlays" / "prod" / "monitoring" / "dashboards" / "chat-backend.json"

# PromQL words that look like names but are not series: operators and modifiers.
_KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
}
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_GROUPINGS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_OFFSETS = re.compile(r"\boffset\s+-?\w+")
_NAMES = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()")


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression reads (functions, label names and values,
    durations and operators left out). A scan rather than a parser: PromQL's lexical shape
    is simple enough, and tests/monitoring/test_rules.py pins it on known expressions."""
    text = _STRINGS.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGES.sub("", text)
    text = _GROUPINGS.sub("", text)
    text = _OFFSETS.sub("", text)
    return {name for name in _NAMES.findall(text) if name.lower() not in _KEYWORDS}


@pytest.fixture(scope="session")
def names_in() -> Callable[[str], set[str]]:
    return metric_names


@pytest.fixture(scope="session")
def rules() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(RULES.read_text())
    return data


def each_rule(rules: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for group in rules["groups"]:
        yield from group["rules"]


@pytest.fixture(scope="session")
def alerts(rules: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in each_rule(rules) if "alert" in rule}


@pytest.fixture(scope="session")
def recorded(rules: dict[str, Any]) -> set[str]:
    """Series the rules themselves record (they exist only in Prometheus)."""
    return {rule["record"] for rule in each_rule(rules) if "record" in rule}


@pytest.fixture(scope="session")
def rule_exprs(rules: dict[str, Any]) -> dict[str, str]:
    return {rule.get("alert") or rule["record"]: rule["expr"] for rule in each_rule(rules)}


@pytest.fixture(scope="session")
def rule_tests() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(RULE_TESTS.read_text())
    return data


@pytest.fixture(scope="session")
def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


@pytest.fixture(scope="session")
def dashboard_exprs(dashboard: dict[str, Any]) -> dict[str, str]:
    """Every panel query, keyed "panel title / refId"."""
    return {
        f"{panel['title']} / {target['refId']}": target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    }
