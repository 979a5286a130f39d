"""The components `make up` runs, in start order: four servers, then the Python services."""

import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from infra.stack import prepare, readiness
from infra.stack.paths import REPO, STATE, VENV_BIN


@dataclass(frozen=True)
class Component:
    name: str
    port: int
    argv: tuple[str, ...]
    ready: Callable[[], Awaitable[None]]
    start_timeout: float = 60.0
    stop_signal: signal.Signals = signal.SIGTERM
    stop_timeout: float = 30.0
    install: tuple[str, ...] | None = None
    # Run once the component is ready (topics, keyspaces); must be idempotent.
    after_ready: Callable[[], Awaitable[None]] | None = None
    # Run before start (keys, migrations); each an argv, must be idempotent.
    before_start: tuple[tuple[str, ...], ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    # Python services exist only once their package does; servers always exist.
    package: str | None = None
    url: str = ""

    @property
    def exists(self) -> bool:
        return self.package is None or (REPO / self.package / "pyproject.toml").exists()


def _server(
    name: str, port: int, ready: Callable[[int], Awaitable[None]], **kw: object
) -> Component:
    return Component(
        name=name,
        port=port,
        argv=("bash", str(REPO / "infra" / name / "run.sh")),
        install=("bash", str(REPO / "infra" / name / "install.sh")),
        ready=partial(ready, port),
        **kw,  # type: ignore[arg-type]
    )


PY = str(VENV_BIN / "python")
UVICORN = str(VENV_BIN / "uvicorn")
JWT_KEY = str(STATE / "auth-service" / "jwt-ed25519.pem")
# Settings the Python services share for a local run (each reads only its own fields).
SERVICE_ENV = {
    "ENVIRONMENT": "dev",
    "JWT_PRIVATE_KEY_FILE": JWT_KEY,
    "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8080",
    "FIRESTORE_PROJECT": "demo-chat",
}

SERVERS = (
    _server(
        "postgres",
        5432,
        readiness.postgres,
        stop_signal=signal.SIGINT,  # "fast shutdown": roll back clients, stop cleanly
    ),
    _server("kafka", 9092, readiness.kafka, after_ready=prepare.kafka_topics, start_timeout=90),
    _server(
        "cassandra",
        9042,
        readiness.cassandra,
        after_ready=prepare.cassandra_keyspace,
        start_timeout=240,
        stop_timeout=60,
    ),
    _server("firestore", 8080, readiness.firestore),
)

SERVICES = (
    Component(
        name="auth-service",
        package="auth-service",
        port=8001,
        before_start=(
            (PY, "-m", "auth_service.keys", "generate", JWT_KEY),
            (PY, "-m", "auth_service.migrate"),
        ),
        argv=(
            UVICORN,
            "auth_service.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            "8001",
            "--no-access-log",
        ),
        ready=partial(readiness.http_ok, "http://127.0.0.1:8001/readyz"),
        env=SERVICE_ENV,
        url="http://127.0.0.1:8001/docs",
    ),
    Component(
        name="chat-service",
        package="chat-service",
        port=8002,
        before_start=((PY, "-m", "chat_service.migrate"),),
        argv=(
            UVICORN,
            "chat_service.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            "8002",
            "--no-access-log",
            # Open SSE streams would otherwise hold shutdown until their clients leave.
            "--timeout-graceful-shutdown",
            "3",
        ),
        ready=partial(readiness.http_ok, "http://127.0.0.1:8002/readyz"),
        env=SERVICE_ENV,
        url="http://127.0.0.1:8002/app",
    ),
    Component(
        name="aggregator",
        package="aggregator",
        port=8003,
        argv=(PY, "-m", "aggregator"),
        ready=partial(readiness.http_ok, "http://127.0.0.1:8003/healthz"),
        env=SERVICE_ENV,
        url="http://127.0.0.1:8003/metrics",
    ),
)
