"""docker-compose.yml: parses, every service is health-checked or a one-shot job, depends_on
names real services with the right condition, host ports are the local run's and unique."""

import re
from pathlib import Path
from typing import Any

import yaml

STORES = {"postgres", "kafka", "cassandra", "firestore-emulator"}


def is_one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def host_port(mapping: str) -> tuple[str, int]:
    """("127.0.0.1", 9092) from "127.0.0.1:9092:9094"."""
    parts = mapping.split(":")
    assert len(parts) == 3, f"publish {mapping!r} on an explicit address (127.0.0.1)"
    return parts[0], int(parts[1])


def test_compose_file_parses_with_the_expected_services(
    compose: dict[str, Any], local_ports: dict[str, int]
) -> None:
    services = compose["services"]
    assert set(local_ports) <= set(services)
    assert {"auth-migrate", "chat-migrate", "kafka-topics"} <= set(services)


def test_every_service_has_a_healthcheck_or_is_a_one_shot_job(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if is_one_shot(service):
            assert "healthcheck" not in service, name
            continue
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name} has no healthcheck"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert len(check["test"]) > 1, name


def test_depends_on_names_real_services_with_the_right_condition(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on must say a condition"
        for dependency, spec in depends.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert dependency != name, name
            expected = (
                "service_completed_successfully"
                if is_one_shot(services[dependency])
                else "service_healthy"
            )
            assert spec["condition"] == expected, (name, dependency)


def test_dependencies_have_no_cycle(compose: dict[str, Any]) -> None:
    services = compose["services"]
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert state.get(name) != "visiting", f"cycle: {' -> '.join((*path, name))}"
        if state.get(name) == "done":
            return
        state[name] = "visiting"
        for dependency in services[name].get("depends_on", {}):
            visit(dependency, (*path, name))
        state[name] = "done"

    for name in services:
        visit(name, ())


def test_migrations_run_before_their_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "auth-migrate" in services["auth-service"]["depends_on"]
    assert "chat-migrate" in services["chat-api"]["depends_on"]
    assert "chat-migrate" in services["chat-worker"]["depends_on"]
    for job, command in (
        ("auth-migrate", ["python", "-m", "auth_service.migrate"]),
        ("chat-migrate", ["python", "-m", "chat_service.store.migrate"]),
    ):
        assert is_one_shot(services[job]), job
        assert services[job]["command"] == command


def test_host_ports_are_the_local_runs_and_do_not_collide(
    compose: dict[str, Any], local_ports: dict[str, int]
) -> None:
    published: dict[int, str] = {}
    for name, service in compose["services"].items():
        for mapping in service.get("ports", []):
            address, port = host_port(mapping)
            # The stores trust their network: reachable from this host only.
            assert address == "127.0.0.1", (name, mapping)
            assert port not in published, f"{name} and {published[port]} both publish {port}"
            published[port] = name
    assert published == {port: name for name, port in local_ports.items()}


def test_volumes_and_secrets_are_declared_and_exist(compose: dict[str, Any], repo: Path) -> None:
    declared = set(compose.get("volumes", {}))
    used: set[str] = set()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert not source.startswith((".", "/")), f"{name}: use a named volume, not {source}"
            used.add(source)
        for secret in service.get("secrets", []):
            assert secret["source"] in compose["secrets"], name
        for env_file in service.get("env_file", []):
            assert (repo / env_file).is_file(), (name, env_file)
        if "build" in service:
            assert service["build"]["context"] == "."
            assert (repo / service["build"].get("dockerfile", "Dockerfile")).is_file(), name
    assert used == declared
    assert {"postgres-data", "kafka-data", "cassandra-data"} <= declared
    key_file = compose["secrets"]["jwt-signing-key"]["file"]
    default = re.fullmatch(r"\$\{JWT_SIGNING_KEY_FILE:-(.+)\}", key_file)
    assert default, key_file
    assert (repo / default.group(1)).is_file()


def test_stores_use_the_same_images_as_the_dev_overlay(compose: dict[str, Any], repo: Path) -> None:
    for store in STORES:
        text = (repo / "k8s" / "overlays" / "dev" / f"{store}.yaml").read_text()
        images = {
            container["image"]
            for doc in yaml.safe_load_all(text)
            if doc["kind"] == "StatefulSet"
            for container in doc["spec"]["template"]["spec"]["containers"]
        }
        assert images == {compose["services"][store]["image"]}, store
        assert not compose["services"][store]["image"].endswith(":latest"), store


def test_chat_worker_is_the_chat_image_running_the_worker(
    compose: dict[str, Any], local_ports: dict[str, int]
) -> None:
    services = compose["services"]
    api, worker = services["chat-api"], services["chat-worker"]
    assert worker["image"] == api["image"] and worker["build"] == api["build"]
    assert worker["command"] == ["python", "-m", "chat_service.worker"]
    # The image's own HEALTHCHECK probes the API's port: the worker says its own.
    probe = " ".join(worker["healthcheck"]["test"])
    assert f"127.0.0.1:{local_ports['chat-worker']}/readyz" in probe
