"""Fixtures of the offline deployment checks: rendered manifests, compose, env files."""

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = {"base": REPO / "k8s" / "base", "dev": REPO / "k8s" / "overlays" / "dev"}
Manifest = dict[str, Any]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def kustomize() -> Path:
    """The pinned kustomize, built once into .state/tools by the repository's own script."""
    script = REPO / "infra" / "tools" / "install-kustomize.sh"
    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{script} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def rendered(kustomize: Path) -> dict[str, list[Manifest]]:
    """`kustomize build` of k8s/base and k8s/overlays/dev, parsed."""
    out: dict[str, list[Manifest]] = {}
    for name, path in OVERLAYS.items():
        done = subprocess.run(
            [str(kustomize), "build", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"kustomize build {path} failed:\n{done.stderr[-3000:]}")
        out[name] = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
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
