"""Every setting a service reads (its real pydantic-settings fields, imported, not copied) is
provided by docker-compose.yml and by the Kubernetes ConfigMap/Secret, and nothing provided
is unknown to it: a renamed setting fails here instead of silently reverting to a default."""

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from pydantic_settings import BaseSettings

# Each process (a compose service, a Deployment) and the settings module it reads: chat-api
# and chat-worker are two commands of one package, with one Settings and one ConfigMap.
SETTINGS = {
    "auth-service": "auth_service.config",
    "chat-api": "chat_service.config",
    "chat-worker": "chat_service.config",
    "aggregator": "aggregator.config",
}
CONFIG_MAPS = {
    "auth-service": "auth-service-config",
    "chat-api": "chat-service-config",
    "chat-worker": "chat-service-config",
    "aggregator": "aggregator-config",
}
# Optional settings that are deliberately left unset, with the reason. Each must still be a
# real field whose default is None, so this list cannot hide a required setting.
UNSET_BY_DESIGN = {
    "auth-service": {
        "JWT_PRIVATE_KEY": "the key comes as a file, JWT_PRIVATE_KEY_FILE, from the secret",
        "JWT_PREVIOUS_PUBLIC_KEY_FILE": "set only while a signing key is being rotated",
        "FIREBASE_SERVICE_ACCOUNT_JSON": "the key comes as a file, FIREBASE_SERVICE_ACCOUNT_FILE",
    },
    "chat-api": {"AUTH_PUBLIC_KEY": "keys come from the JWKS at AUTH_JWKS_URL"},
    "chat-worker": {"AUTH_PUBLIC_KEY": "keys come from the JWKS at AUTH_JWKS_URL"},
    "aggregator": {},
}
# Store passwords: the bundled dev stores take none; the prod overlay must give each one from
# a Secret (test_prod_overlay.py checks that).
STORE_PASSWORDS = {
    "auth-service": {"DATABASE_PASSWORD", "KAFKA_SASL_PASSWORD"},
    "chat-api": {"CASSANDRA_PASSWORD", "KAFKA_SASL_PASSWORD"},
    "chat-worker": {"CASSANDRA_PASSWORD", "KAFKA_SASL_PASSWORD"},
    "aggregator": {"KAFKA_SASL_PASSWORD"},
}
SIGNING_KEY_PATH = "/run/secrets/chat/jwt-signing-key.pem"

Manifest = dict[str, Any]


def settings_class(service: str) -> type[BaseSettings]:
    module_name = SETTINGS[service]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        pytest.fail(f"cannot import {module_name} (is {service} installed? `make venv`): {exc}")
    cls: type[BaseSettings] = module.Settings
    return cls


def check_coverage(
    service: str, provided: dict[str, str], where: str, passwords_given: bool = False
) -> None:
    cls = settings_class(service)
    fields = set(cls.model_fields)
    unset = set(UNSET_BY_DESIGN[service])
    if not passwords_given:
        unset |= STORE_PASSWORDS[service]
    for name in unset:
        assert name in fields, f"UNSET_BY_DESIGN names {name}, which {service} no longer reads"
        assert cls.model_fields[name].default is None, f"{name} is not optional"
    missing = sorted(fields - set(provided) - set(unset))
    unknown = sorted(set(provided) - fields)
    assert not missing, f"{where}: {service} reads {missing}, which are not provided"
    assert not unknown, f"{where}: provides {unknown}, which {service} does not read"
    # The values must also be valid for the service (types, bounds, enums), on their own:
    # not mixed with this process's environment (a test run's store credentials).
    own = {key: value for key, value in os.environ.items() if key not in fields}
    with patch.dict(os.environ, own, clear=True):
        cls.model_validate(provided)


def compose_env(
    service: dict[str, Any], repo: Path, read: Callable[[Path], dict[str, str]]
) -> dict[str, str]:
    env: dict[str, str] = {}
    for env_file in service.get("env_file", []):
        env.update(read(repo / env_file))
    env.update({key: str(value) for key, value in service.get("environment", {}).items()})
    return env


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_compose_provides_every_setting(
    service: str,
    compose: dict[str, Any],
    repo: Path,
    read_env_file: Callable[[Path], dict[str, str]],
) -> None:
    spec = compose["services"][service]
    env = compose_env(spec, repo, read_env_file)
    check_coverage(service, env, f"docker-compose.yml service {service}")
    if "JWT_PRIVATE_KEY_FILE" in env:
        targets = {secret["target"] for secret in spec.get("secrets", [])}
        assert env["JWT_PRIVATE_KEY_FILE"] in targets, service


def secret_files(pod_spec: dict[str, Any]) -> set[str]:
    """The paths of the files the pod's first container gets from Secrets."""
    mounts = {m["name"]: m["mountPath"] for m in pod_spec["containers"][0]["volumeMounts"]}
    return {
        f"{mounts[v['name']]}/{item['path']}"
        for v in pod_spec["volumes"]
        if "secret" in v and v["name"] in mounts
        for item in v["secret"]["items"]
    }


def k8s_env(pod_spec: dict[str, Any], docs: list[Manifest]) -> dict[str, str]:
    maps = {d["metadata"]["name"]: d for d in docs if d["kind"] in {"ConfigMap", "Secret"}}
    env: dict[str, str] = {}
    container = pod_spec["containers"][0]
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef") or source["secretRef"]
        obj = maps[ref["name"]]
        env.update(obj.get("data", {}))
        env.update(obj.get("stringData", {}))
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", "<from valueFrom>")
    return env


@pytest.mark.parametrize("overlay", ["base", "dev", "prod"])
@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_kubernetes_config_provides_every_setting(
    service: str, overlay: str, rendered: dict[str, list[Manifest]]
) -> None:
    docs = rendered[overlay]
    deployment = next(
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == service
    )
    spec = deployment["spec"]["template"]["spec"]
    env = k8s_env(spec, docs)
    # Production stores take passwords: each must be given, and only from a Secret.
    production = overlay == "prod"
    check_coverage(service, env, f"k8s/{overlay} Deployment/{service}", production)
    if production:
        from_secrets = {
            item["name"]
            for item in spec["containers"][0].get("env", [])
            if "secretKeyRef" in item.get("valueFrom", {})
        }
        assert STORE_PASSWORDS[service] <= from_secrets, service
    if "JWT_PRIVATE_KEY_FILE" in env:
        assert env["JWT_PRIVATE_KEY_FILE"] == SIGNING_KEY_PATH
        assert SIGNING_KEY_PATH in secret_files(spec)
    if env.get("FIREBASE_SERVICE_ACCOUNT_FILE"):
        # A Firebase key, where one is configured, is a mounted Secret's file.
        assert env["FIREBASE_SERVICE_ACCOUNT_FILE"] in secret_files(spec)


def test_compose_and_kubernetes_run_one_configuration(
    compose: dict[str, Any],
    repo: Path,
    read_env_file: Callable[[Path], dict[str, str]],
    rendered: dict[str, list[Manifest]],
) -> None:
    # Same values everywhere except ENVIRONMENT (dev in compose and the dev overlay).
    docs = rendered["dev"]
    for service in SETTINGS:
        from_compose = compose_env(compose["services"][service], repo, read_env_file)
        deployment = next(
            d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == service
        )
        from_k8s = k8s_env(deployment["spec"]["template"]["spec"], docs)
        assert from_compose == from_k8s, service
        assert from_compose["ENVIRONMENT"] == "dev"
    base_env = {
        d["metadata"]["name"].rsplit("-", 1)[0]: d["data"]["ENVIRONMENT"]
        for d in rendered["base"]
        if d["kind"] == "ConfigMap"
    }
    assert base_env == dict.fromkeys(CONFIG_MAPS.values(), "prod")


@pytest.mark.parametrize("overlay", ["base", "prod"])
def test_migration_jobs_read_the_same_settings_as_their_service(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    docs = rendered[overlay]
    for job in (d for d in docs if d["kind"] == "Job"):
        service = job["metadata"]["labels"]["app.kubernetes.io/name"]
        deployment = next(
            d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == service
        )
        job_container = job["spec"]["template"]["spec"]["containers"][0]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        for source in ("envFrom", "env"):
            assert job_container.get(source) == container.get(source), (job, source)
