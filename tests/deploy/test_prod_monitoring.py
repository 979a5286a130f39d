"""The prod overlay's monitoring (prometheus-operator and Grafana): the PrometheusRule
carries exactly monitoring/alerts.rules.yml, the PodMonitor scrapes every service pod the
way the rules expect, the dashboard ConfigMap carries the dashboard, and nothing of the
operator's reaches the dev overlay (which must apply on a cluster without its CRDs).
The resources' schemas are checked with the other custom resources (test_prod_overlay.py)."""

import json
import re
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]
Objects = dict[str, dict[str, Manifest]]
MONITORING_GROUP = "monitoring.coreos.com"


def test_the_prometheus_rule_is_the_local_rules_file(prod: Objects, repo: Path) -> None:
    plain = yaml.safe_load((repo / "monitoring" / "alerts.rules.yml").read_text())
    rule = prod["PrometheusRule"]["chat-backend-alerts"]
    assert rule["spec"] == {"groups": plain["groups"]}, (
        "k8s/overlays/prod/monitoring/prometheus-rules.yaml is out of date: "
        "run `.venv/bin/python -m infra.stack.monitoring k8s`"
    )


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        if operator == "Exists" and key not in labels:
            return False
        if operator == "In" and labels.get(key) not in expression["values"]:
            return False
        if operator == "NotIn" and labels.get(key) in expression["values"]:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def test_the_pod_monitor_scrapes_every_service_pod_and_no_job(prod: Objects) -> None:
    monitor = prod["PodMonitor"]["chat-backend"]["spec"]
    [endpoint] = monitor["podMetricsEndpoints"]
    for kind in ("Deployment", "Job"):
        for name, workload in prod.get(kind, {}).items():
            template = workload["spec"]["template"]
            ports = {
                port.get("name")
                for container in template["spec"]["containers"]
                for port in container.get("ports", [])
            }
            selected = _selects(monitor["selector"], template["metadata"]["labels"])
            if kind == "Job":
                assert not selected, f"the PodMonitor selects Job {name}"
                continue
            assert selected, f"the PodMonitor misses Deployment {name}"
            assert endpoint["port"] in ports, f"Deployment {name} has no {endpoint['port']} port"


def test_jobs_are_named_as_the_rules_expect(prod: Objects, repo: Path) -> None:
    """The alerts group by `job`; ChatTargetDown names the jobs, which the PodMonitor takes
    from each pod's app.kubernetes.io/name."""
    monitor = prod["PodMonitor"]["chat-backend"]["spec"]
    assert monitor["jobLabel"] == "app.kubernetes.io/name"
    plain = yaml.safe_load((repo / "monitoring" / "alerts.rules.yml").read_text())
    [target_down] = [
        r for g in plain["groups"] for r in g["rules"] if r.get("alert") == "ChatTargetDown"
    ]
    pattern = re.search(r'job=~"([^"]+)"', target_down["expr"])
    assert pattern, target_down["expr"]
    for name, deployment in prod["Deployment"].items():
        job = deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
        assert re.fullmatch(pattern.group(1), job), f"ChatTargetDown does not watch {name}"


def test_the_dashboard_config_map_carries_the_dashboard(prod: Objects, repo: Path) -> None:
    config_map = prod["ConfigMap"]["chat-backend-dashboard"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    source = repo / "k8s" / "overlays" / "prod" / "monitoring" / "dashboards" / "chat-backend.json"
    assert json.loads(config_map["data"]["chat-backend.json"]) == json.loads(source.read_text())


def test_operator_resources_stay_out_of_base_and_dev(rendered: dict[str, list[Manifest]]) -> None:
    for overlay in ("base", "dev"):
        found = [
            f"{d['kind']}/{d['metadata']['name']}"
            for d in rendered[overlay]
            if d["apiVersion"].startswith(f"{MONITORING_GROUP}/")
        ]
        assert not found, f"{overlay} needs prometheus-operator's CRDs for {found}"
