"""Fixtures of the offline deployment checks: rendered manifests, compose, env files."""

import json
import subprocess
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = {
    "base": REPO / "k8s" / "base",
    "dev": REPO / "k8s" / "overlays" / "dev",
    "prod": REPO / "k8s" / "overlays" / "prod",
}
Manifest = dict[str, Any]


def run_or_fail(argv: list[str], timeout: float) -> str:
    """A tool's stdout; if it exits non-zero, the test fails with the end of its stderr."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


@pytest.fixture(scope="session")
def tool_output() -> Callable[[list[str], float], str]:
    """`run_or_fail` for test modules (they cannot import this conftest)."""
    return run_or_fail


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def local_ports() -> dict[str, int]:
    """The host ports of a local run (`make up`), which compose and Tilt must publish too."""
    return {
        "auth-service": 8001,
        "chat-api": 8002,
        "aggregator": 8003,
        "chat-worker": 8004,
        "postgres": 5432,
        "kafka": 9092,
        "cassandra": 9042,
        "firestore-emulator": 8080,
    }


@pytest.fixture(scope="session")
def kustomize() -> Path:
    """The pinned kustomize, built once into .state/tools by the repository's own script."""
    script = REPO / "infra" / "tools" / "install-kustomize.sh"
    return Path(run_or_fail(["bash", str(script)], 600).strip().splitlines()[-1])


@pytest.fixture(scope="session")
def rendered(kustomize: Path) -> dict[str, list[Manifest]]:
    """`kustomize build` of k8s/base and k8s/overlays/{dev,prod}, parsed."""
    out: dict[str, list[Manifest]] = {}
    for name, path in OVERLAYS.items():
        built = run_or_fail([str(kustomize), "build", str(path)], 120)
        out[name] = [doc for doc in yaml.safe_load_all(built) if doc]
    return out


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    with (REPO / "docker-compose.yml").open() as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, `#` comments and blank lines skipped (what compose and kustomize read)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path}:{number}: not KEY=VALUE: {raw!r}"
        assert key not in values, f"{path}:{number}: {key} given twice"
        values[key] = value
    return values


@pytest.fixture(scope="session")
def read_env_file() -> Callable[[Path], dict[str, str]]:
    return parse_env_file


# Offline validation of the operators' custom resources against their vendored JSON schemas
# (k8s/crd-schemas/), unknown fields rejected as `kubernetes-validate --strict` does for the
# built-in kinds. Exposed as fixtures: test modules cannot import each other here.
CRD_SCHEMAS = REPO / "k8s" / "crd-schemas"
# Keys whose value maps names to schemas (not a schema itself), and keys holding schemas.
_SCHEMA_MAPS = {
    "properties",
    "patternProperties",
    "definitions",
    "$defs",
    "dependentSchemas",
}
_SUBSCHEMA = {
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
}
_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "items", "prefixItems"}


def closed(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every object that lists its properties closed to any other.

    Free-form maps (no `properties`, like Kafka's `config`) stay open. An object that lists
    its properties is closed even where the CRD says `x-kubernetes-preserve-unknown-fields`
    (cass-operator's whole `spec`): there the API server would keep a misspelt field and
    the operator would silently ignore it, which is what this check exists to prevent."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: closed(sub) for name, sub in value.items()}
        elif key in _SUBSCHEMA and isinstance(value, dict):
            out[key] = closed(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [closed(sub) for sub in value]
        else:
            out[key] = value
    if "properties" in schema and "additionalProperties" not in schema:
        out["additionalProperties"] = False
    return out


def schema_path(doc: Manifest) -> Path:
    group, _, version = doc["apiVersion"].rpartition("/")
    return CRD_SCHEMAS / group / f"{doc['kind'].lower()}_{version}.json"


def is_custom(doc: Manifest) -> bool:
    """A kind of one of the operators whose schemas are vendored (by API group)."""
    group = doc["apiVersion"].rpartition("/")[0]
    return bool(group) and (CRD_SCHEMAS / group).is_dir()


@cache
def _validator(path: Path, strict: bool) -> Draft7Validator:
    schema = json.loads(path.read_text())
    return Draft7Validator(closed(schema) if strict else schema)


def custom_resource_errors(doc: Manifest, strict: bool = True) -> list[str]:
    """What is wrong with the custom resource `doc` (empty when it is valid)."""
    path = schema_path(doc)
    if not path.is_file():
        return [f"no schema for {doc['apiVersion']} {doc['kind']} ({path.name})"]
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in _validator(path, strict).iter_errors(doc)
    ]


class CustomResources:
    """What the tests use of the above."""

    errors = staticmethod(custom_resource_errors)
    is_custom = staticmethod(is_custom)


@pytest.fixture(scope="session")
def crds() -> CustomResources:
    return CustomResources()


@pytest.fixture(scope="session")
def prod(rendered: dict[str, list[Manifest]]) -> dict[str, dict[str, Manifest]]:
    """The prod overlay's objects by kind, then by name."""
    by_kind: dict[str, dict[str, Manifest]] = {}
    for doc in rendered["prod"]:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    return by_kind


Peer = dict[str, Any]


def policy_peers(policy: Manifest, direction: str) -> Iterator[tuple[Peer, set[int]]]:
    """(peer, ports) of every rule of a NetworkPolicy spec, `direction` "ingress" or "egress"."""
    side = "from" if direction == "ingress" else "to"
    for rule in policy.get(direction, []):
        # A rule without peers admits (or reaches) every pod and address.
        assert rule.get(side), f"a {direction} rule without `{side}`: {rule}"
        ports = {port["port"] for port in rule["ports"]}
        for peer in rule[side]:
            yield peer, ports


@pytest.fixture(scope="session")
def peers() -> Callable[[Manifest, str], Iterator[tuple[Peer, set[int]]]]:
    return policy_peers
