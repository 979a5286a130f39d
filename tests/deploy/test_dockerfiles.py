"""The one Dockerfile, parsed, and each service's build arguments from docker-compose.yml:
pinned base images, non-root final targets, a python HEALTHCHECK on the service's port,
installs pinned by constraints.txt, nothing secret in the build context."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser

SERVICES = {"auth-service": 8001, "chat-service": 8002, "aggregator": 8003}
# Final targets people build: `runtime` (the default, so it must be last) and Tilt's `dev`.
TARGETS = ("runtime", "dev")
# A release tag (3.11.13-slim-bookworm) or a digest; never a moving tag like 3.11 or latest.
PINNED = re.compile(r"^[\w./-]+(:\d+\.\d+\.\d+[\w.-]*)?(@sha256:[0-9a-f]{64})?$")
ROOT_USERS = {"root", "0", "0:0", "root:root"}


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def stages(path: Path) -> list[Stage]:
    parsed: list[Stage] = []
    for item in DockerfileParser(str(path)).structure:
        instruction, value = item["instruction"], item["value"]
        if instruction == "FROM":
            words = value.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(parsed))
            parsed.append(Stage(name=name, base=words[0]))
        elif instruction != "COMMENT":
            assert parsed, f"{path}: {instruction} before FROM"
            parsed[-1].instructions.append((instruction, value))
    return parsed


def chain(all_stages: list[Stage], target: str) -> list[Stage]:
    """The target stage and the stages it is built FROM, base first."""
    by_name = {stage.name: stage for stage in all_stages}
    out = [by_name[target]]
    while out[0].base in by_name:
        out.insert(0, by_name[out[0].base])
    return out


def last(stages_: list[Stage], instruction: str) -> str | None:
    found = [v for stage in stages_ for i, v in stage.instructions if i == instruction]
    return found[-1] if found else None


@pytest.fixture(params=sorted(SERVICES))
def service(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def build_args(service: str, repo: Path) -> dict[str, str]:
    """The service's build of the one Dockerfile, as docker-compose.yml declares it."""
    compose = yaml.safe_load((repo / "docker-compose.yml").read_text())
    build = compose[f"x-{service}-build"]
    assert build["context"] == "." and build.get("dockerfile", "Dockerfile") == "Dockerfile"
    args: dict[str, str] = build["args"]
    return args


def test_one_dockerfile_for_every_service(repo: Path) -> None:
    assert (repo / "Dockerfile").is_file()
    for service in SERVICES:
        assert not (repo / service / "Dockerfile").exists(), f"{service} has its own Dockerfile"


def test_base_images_are_pinned(service: str, repo: Path) -> None:
    all_stages = stages(repo / "Dockerfile")
    names = {stage.name for stage in all_stages}
    external = [stage.base for stage in all_stages if stage.base not in names]
    assert external, service
    for image in external:
        assert PINNED.match(image) and (":" in image or "@" in image), f"{service}: {image}"
        assert image.startswith("python:3.11."), f"{service}: not Python 3.11: {image}"


def test_final_targets_run_as_a_non_root_user(service: str, repo: Path) -> None:
    all_stages = stages(repo / "Dockerfile")
    assert all_stages[-1].name == "runtime", "the default target must be the production one"
    for target in TARGETS:
        user = last(chain(all_stages, target), "USER")
        assert user is not None, f"{service}:{target} has no USER"
        assert user.strip() not in ROOT_USERS, f"{service}:{target} runs as {user}"
        # Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
        assert re.fullmatch(r"[1-9]\d*(:\d+)?", user.strip()), f"{service}:{target}: {user}"


def test_healthcheck_uses_python_on_the_service_port(
    service: str, repo: Path, build_args: dict[str, str]
) -> None:
    assert build_args["PORT"] == str(SERVICES[service])
    all_stages = stages(repo / "Dockerfile")
    for target in TARGETS:
        stages_ = chain(all_stages, target)
        check = last(stages_, "HEALTHCHECK")
        assert check is not None, f"{service}:{target} has no HEALTHCHECK"
        argv = json.loads(check[check.index("CMD") + 3 :].strip())
        assert argv[0] == "python", f"{service}: the slim image has no curl"
        assert "http://127.0.0.1:%s/healthz' % os.environ['SERVICE_PORT']" in argv[-1]
        assert re.search(r"\bSERVICE_PORT=\$\{PORT\}", last(stages_, "ENV") or "")


# The module of each web service's app factory.
APP_FACTORIES = {"auth-service": "auth_service.main", "chat-service": "chat_service.api.app"}


def test_runtime_command_and_exposed_port(
    service: str, repo: Path, build_args: dict[str, str]
) -> None:
    runtime = chain(stages(repo / "Dockerfile"), "runtime")
    assert last(runtime, "EXPOSE") == "${PORT}"
    command = json.loads(last(runtime, "CMD") or "null")
    # Exec form, and the shell execs the server, so signals reach it.
    assert command == ["/bin/sh", "-c", "exec $SERVICE_START"]
    assert re.search(r"\bSERVICE_START=\$\{START\}", last(runtime, "ENV") or "")
    start = build_args["START"].split()
    if service == "aggregator":
        assert start == ["python", "-m", "aggregator"]
    else:
        assert start[:3] == ["uvicorn", f"{APP_FACTORIES[service]}:create_app", "--factory"]
        assert start[-4:] == ["--host", "0.0.0.0", "--port", str(SERVICES[service])]


def test_installs_are_pinned_and_copies_exist(service: str, repo: Path) -> None:
    all_stages = stages(repo / "Dockerfile")
    installs = [
        value
        for stage in all_stages
        for instruction, value in stage.instructions
        if instruction == "RUN" and "pip install" in value
    ]
    assert installs, service
    for command in installs:
        assert re.search(r"-c \S*constraints\.txt", command), f"{service}: unpinned: {command}"
    for stage in all_stages:
        for instruction, value in stage.instructions:
            if instruction == "COPY" and "--from=" not in value:
                for source in value.split()[:-1]:
                    assert (repo / source).exists(), f"{service}: COPY {source} is missing"


def test_no_secret_is_baked_into_an_image(service: str, repo: Path) -> None:
    for stage in stages(repo / "Dockerfile"):
        for instruction, value in stage.instructions:
            if instruction in {"ENV", "ARG"}:
                assert not re.search(r"KEY|SECRET|PASSWORD|TOKEN", value, re.I), (service, value)
            if instruction in {"COPY", "ADD"}:
                assert ".pem" not in value and ".state" not in value, (service, value)


def test_dockerignore_keeps_local_state_and_keys_out(repo: Path) -> None:
    patterns = {
        line.strip()
        for line in (repo / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".state", ".venv", "**/*.pem", "**/*.egg-info"} <= patterns
    # What the images copy must not be ignored.
    for needed in ("constraints.txt", "common", "auth-validator", *SERVICES):
        assert needed not in patterns, needed
