"""The alert rules' two renderings, from the one source (monitoring/alerts.rules.yml).

`python -m infra.stack.monitoring local`: what the local Prometheus loads, written into its
state folder before it starts: prometheus.yml (a scrape job per service, named as the
component) and the rules, with the outbox alert's `for:` set by OUTBOX_ALERT_FOR.
`python -m infra.stack.monitoring k8s [--check]`: the prod overlay's PrometheusRule
(k8s/overlays/prod/monitoring/prometheus-rules.yaml); --check fails if it is out of date.
"""

import argparse
import copy
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from infra.stack.paths import REPO

RULES = REPO / "monitoring" / "alerts.rules.yml"
PROMETHEUS_RULE = REPO / "k8s" / "overlays" / "prod" / "monitoring" / "prometheus-rules.yaml"
OUTBOX_ALERT = "ChatOutboxNotDraining"
# Locally, often enough that the tests see a first scrape and a firing alert soon.
LOCAL_INTERVAL = "5s"
GENERATED = (
    "# Generated from monitoring/alerts.rules.yml by `.venv/bin/python -m infra.stack.monitoring"
    " k8s`;\n# edit that file instead (tests/deploy checks this one is up to date).\n"
)


def load_rules(path: Path = RULES) -> dict[str, Any]:
    rules: dict[str, Any] = yaml.safe_load(path.read_text())
    return rules


def local_rules(rules: dict[str, Any], outbox_for: str) -> dict[str, Any]:
    """`rules` with the outbox alert's `for:` replaced (a short one makes a short crash test)."""
    out = copy.deepcopy(rules)
    found = [r for g in out["groups"] for r in g["rules"] if r.get("alert") == OUTBOX_ALERT]
    if len(found) != 1:
        raise ValueError(f"{OUTBOX_ALERT} is defined {len(found)} times in the rules")
    found[0]["for"] = outbox_for
    return out


def scrape_config(targets: dict[str, str], rules_file: str) -> dict[str, Any]:
    """prometheus.yml: one job per component (job = its name), metrics at /metrics."""
    return {
        "global": {"scrape_interval": LOCAL_INTERVAL, "evaluation_interval": LOCAL_INTERVAL},
        "rule_files": [rules_file],
        "scrape_configs": [
            {"job_name": name, "static_configs": [{"targets": [address]}]}
            for name, address in targets.items()
        ],
    }


def prometheus_rule(rules: dict[str, Any]) -> dict[str, Any]:
    """The PrometheusRule resource carrying `rules` unchanged."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "chat-backend-alerts"},
        "spec": {"groups": rules["groups"]},
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the PromQL) as literal blocks, so the output reads like the source."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True)


def rendered_prometheus_rule() -> str:
    return GENERATED + dump(prometheus_rule(load_rules()))


def write_local(state_dir: Path, targets: dict[str, str], outbox_for: str) -> None:
    rules_file = state_dir / "alerts.rules.yml"
    rules_file.write_text(dump(local_rules(load_rules(), outbox_for)))
    (state_dir / "prometheus.yml").write_text(dump(scrape_config(targets, str(rules_file))))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.stack.monitoring")
    parser.add_argument("what", choices=["local", "k8s"])
    parser.add_argument("--check", action="store_true", help="k8s: fail if out of date")
    args = parser.parse_args()
    if args.what == "local":
        from infra.stack.components import SCRAPE_TARGETS

        write_local(Path(os.environ["STATE_DIR"]), SCRAPE_TARGETS, os.environ["OUTBOX_ALERT_FOR"])
        return 0
    text = rendered_prometheus_rule()
    if args.check:
        if not PROMETHEUS_RULE.is_file() or PROMETHEUS_RULE.read_text() != text:
            print(f"{PROMETHEUS_RULE} is out of date: run `python -m infra.stack.monitoring k8s`")
            return 1
        return 0
    PROMETHEUS_RULE.parent.mkdir(parents=True, exist_ok=True)
    PROMETHEUS_RULE.write_text(text)
    print(f"wrote {PROMETHEUS_RULE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
