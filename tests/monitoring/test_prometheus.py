"""The local Prometheus that `make up` runs: every target scraped and up, every rule loaded
and evaluated without error, and every series a rule or the dashboard reads exported by a
running component, so a renamed metric fails here rather than silencing an alert."""

import os
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chat_common.waiting import wait_until

PROMETHEUS_URL = os.environ.get("PROMETHEUS_URL", "http://127.0.0.1:9090").rstrip("/")
# The first scrape and the first rule evaluation come within one interval (5 s locally).
FIRST_ROUND_SECONDS = 60.0
# Made by Prometheus itself for every target, not exported by one.
SYNTHETIC = {"up"}
SERVICE_JOBS = {"auth-service", "aggregator", "chat-worker"}


async def api(path: str) -> Any:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{PROMETHEUS_URL}{path}")
        response.raise_for_status()
        return response.json()["data"]


async def settled(what: str, read: Callable[[], Awaitable[list[dict[str, Any]]]]) -> list[Any]:
    """`read()` once none of its items is still "unknown" (never scraped or evaluated)."""
    latest: list[dict[str, Any]] = []

    async def done() -> bool:
        nonlocal latest
        latest = await read()
        return bool(latest) and all(item["health"] != "unknown" for item in latest)

    await wait_until(done, what, FIRST_ROUND_SECONDS)
    return latest


async def targets() -> list[dict[str, Any]]:
    data = await api("/api/v1/targets?state=active")
    return list(data["activeTargets"])


async def rules() -> list[dict[str, Any]]:
    data = await api("/api/v1/rules")
    return [rule for group in data["groups"] for rule in group["rules"]]


async def test_every_service_is_a_target_and_up() -> None:
    scraped = await settled("every target scraped once", targets)
    jobs = {t["labels"]["job"] for t in scraped}
    assert SERVICE_JOBS <= jobs, f"jobs scraped: {sorted(jobs)}"
    assert jobs & {"chat-service", "chat-api"}, f"no chat API job among {sorted(jobs)}"
    down = {t["scrapeUrl"]: t["lastError"] for t in scraped if t["health"] != "up"}
    assert not down, f"targets down: {down}"


async def test_every_rule_is_loaded_and_healthy(alerts: dict[str, Any], recorded: set[str]) -> None:
    loaded = await settled("every rule evaluated once", rules)
    assert {rule["name"] for rule in loaded} == set(alerts) | recorded
    broken = {rule["name"]: rule.get("lastError") for rule in loaded if rule["health"] != "ok"}
    assert not broken, f"rules that fail to evaluate: {broken}"


@pytest.fixture(scope="module")
async def exported() -> set[str]:
    """Every sample name on the /metrics of every target that is up, scraped directly
    (a target that is down fails test_every_service_is_a_target_and_up)."""
    scraped = await settled("every target scraped once", targets)
    names: set[str] = set()
    async with httpx.AsyncClient(timeout=5) as client:
        for target in (t for t in scraped if t["health"] == "up"):
            response = await client.get(target["scrapeUrl"])
            assert response.status_code == 200, f"{target['scrapeUrl']}: {response.status_code}"
            for family in text_string_to_metric_families(response.text):
                names |= {sample.name for sample in family.samples}
    return names


def unexported(
    exprs: dict[str, str], names_in: Callable[[str], set[str]], known: set[str]
) -> dict[str, list[str]]:
    """Each series name no running component exports, with what reads it."""
    missing: dict[str, list[str]] = {}
    for where, expr in exprs.items():
        for name in sorted(names_in(expr) - known):
            missing.setdefault(name, []).append(where)
    return missing


@pytest.mark.parametrize("reader", ["rule_exprs", "dashboard_exprs"])
async def test_every_series_read_is_exported(
    request: pytest.FixtureRequest,
    reader: str,
    exported: set[str],
    recorded: set[str],
    names_in: Callable[[str], set[str]],
) -> None:
    """What the rules read, then what the dashboard's panels read."""
    exprs: dict[str, str] = request.getfixturevalue(reader)
    missing = unexported(exprs, names_in, exported | recorded | SYNTHETIC)
    assert not missing, f"series no running component exports (name: where read): {missing}"
