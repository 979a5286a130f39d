"""The components `make up` runs, in start order: six servers, then the Python services."""

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
    # The user it connects to the stores as (infra/rights): its credentials join `env`;
    # `setup_user`'s instead for the before_start steps (migrations run as their own).
    user: str = ""
    setup_user: str = ""
    # Python services exist only once their package does; servers always exist.
    package: str | None = None
    url: str = ""

    @property
    def exists(self) -> bool:
        return self.package is None or (REPO / self.package / "pyproject.toml").exists()


# Every local port, declared here only: run.sh scripts and services get theirs from the
# environment built below, so changing one here changes it everywhere.
PORTS = {
    "postgres": 5432,
    "kafka": 9092,
    "kafka-controller": 9093,
    "cassandra": 9042,
    "cassandra-storage": 7000,
    "cassandra-jmx": 7199,
    "firestore": 8080,
    "firebase-auth": 9099,
    "firebase-auth-hub": 4400,
    "firebase-auth-logging": 4500,
    "prometheus": 9090,
    "auth-service": 8001,
    "chat-api": 8002,
    "aggregator": 8003,
    "chat-worker": 8004,
}


def _server(
    name: str,
    ready: Callable[[int], Awaitable[None]],
    env: dict[str, str] | None = None,
    **kw: object,
) -> Component:
    port = PORTS[name]
    return Component(
        name=name,
        port=port,
        argv=("bash", str(REPO / "infra" / name / "run.sh")),
        install=("bash", str(REPO / "infra" / name / "install.sh")),
        ready=partial(ready, port),
        env={"PORT": str(port), **(env or {})},
        **kw,  # type: ignore[arg-type]
    )


def _local(name: str) -> str:
    return f"127.0.0.1:{PORTS[name]}"


PY = str(VENV_BIN / "python")
UVICORN = str(VENV_BIN / "uvicorn")
JWT_KEY = str(STATE / "auth-service" / "jwt-ed25519.pem")
# A throwaway Firebase key, so POST /auth/firebase-token answers locally (no Firebase trusts it).
FIREBASE_KEY = str(STATE / "auth-service" / "firebase-service-account.json")
# Settings the Python services share for a local run (each reads only its own fields).
SERVICE_ENV = {
    "ENVIRONMENT": "dev",
    "JWT_PRIVATE_KEY_FILE": JWT_KEY,
    "FIREBASE_SERVICE_ACCOUNT_FILE": FIREBASE_KEY,
    "DATABASE_URL": f"postgresql+asyncpg://postgres@{_local('postgres')}/chat",
    "KAFKA_BOOTSTRAP_SERVERS": _local("kafka"),
    "CASSANDRA_HOSTS": "127.0.0.1",
    "CASSANDRA_PORT": str(PORTS["cassandra"]),
    "AUTH_SERVICE_URL": f"http://{_local('auth-service')}",
    "PUBLIC_AUTH_URL": f"http://{_local('auth-service')}",
    "FIRESTORE_EMULATOR_HOST": _local("firestore"),
    "FIRESTORE_PROJECT": "demo-chat",
    # firebase-admin's switch to the Auth emulator (auth-service revokes and deletes there).
    "FIREBASE_AUTH_EMULATOR_HOST": _local("firebase-auth"),
    # DESIGN.md's send rate (10/s) with a deeper burst than its 20: the e2e suites send
    # up to ~30 messages back to back from one user (the web page's history).
    "SEND_RATE_BURST": "60",
    # The suites and benches register users and fail logins by the hundred from 127.0.0.1,
    # and register in bursts: per-address limits out of their way, a longer wait for an
    # Argon2 slot. Failed logins per (username, address) keep their default (5), which
    # tests/e2e/test_auth_limits.py checks over HTTP.
    "REGISTRATIONS_PER_ADDRESS": "1000000",
    "LOGIN_FAILURES_PER_ADDRESS": "1000000",
    "ARGON2_QUEUE_TIMEOUT_SECONDS": "10",
}

SERVERS = (
    _server(
        "postgres",
        readiness.postgres,
        stop_signal=signal.SIGINT,  # "fast shutdown": roll back clients, stop cleanly
    ),
    _server(
        "kafka",
        readiness.kafka,
        env={"CONTROLLER_PORT": str(PORTS["kafka-controller"])},
        # The users to format with and the admin's client settings (infra/rights/local.py).
        before_start=((PY, "-m", "infra.rights.local", "kafka-server-files"),),
        # The ACLs of infra/rights/source.py, then the topics (as the topic-setup user).
        after_ready=prepare.kafka_rights_and_topics,
        start_timeout=90,
    ),
    _server(
        "cassandra",
        readiness.cassandra,
        env={
            "STORAGE_PORT": str(PORTS["cassandra-storage"]),
            "JMX_PORT": str(PORTS["cassandra-jmx"]),
        },
        after_ready=prepare.cassandra_rights_and_keyspace,
        start_timeout=240,
        stop_timeout=60,
    ),
    _server("firestore", readiness.firestore),
    # firebase-tools' Auth emulator (Node only, offline with a demo- project).
    _server(
        "firebase-auth",
        readiness.firebase_auth,
        env={
            "HUB_PORT": str(PORTS["firebase-auth-hub"]),
            "LOGGING_PORT": str(PORTS["firebase-auth-logging"]),
        },
        start_timeout=90,
    ),
    # Scrapes every service and evaluates monitoring/alerts.rules.yml (infra.stack.monitoring
    # writes its configuration). The outbox alert waits 10 s here instead of production's
    # 5 minutes, so tests/crash sees it fire within a short Kafka outage.
    _server(
        "prometheus",
        readiness.prometheus,
        env={"OUTBOX_ALERT_FOR": "10s"},
        before_start=((PY, "-m", "infra.stack.monitoring", "local"),),
    ),
)


def _uvicorn(app: str, name: str, *extra: str) -> tuple[str, ...]:
    return (UVICORN, app, "--factory", "--host", "127.0.0.1", "--port", str(PORTS[name]), *extra)


def _service(
    name: str,
    argv: tuple[str, ...],
    probe: str,
    page: str,
    before_start: tuple[tuple[str, ...], ...] = (),
    env: dict[str, str] = SERVICE_ENV,
    package: str | None = None,
    setup_user: str = "",
) -> Component:
    """One of our Python services: its port and URLs follow from its name, and so does its
    package's folder unless `package` names it (chat-api and chat-worker share one)."""
    return Component(
        name=name,
        package=package or name,
        port=PORTS[name],
        before_start=before_start,
        argv=argv,
        ready=partial(readiness.http_ok, f"http://{_local(name)}{probe}"),
        env=env,
        url=f"http://{_local(name)}{page}",
        user=name,
        setup_user=setup_user,
    )


SERVICES = (
    _service(
        "auth-service",
        _uvicorn("auth_service.main:create_app", "auth-service", "--no-access-log"),
        "/readyz",
        "/docs",
        before_start=(
            (PY, "-m", "auth_service.keygen", "generate", JWT_KEY),
            (PY, "-m", "auth_service.dev_firebase_key", FIREBASE_KEY),
            (PY, "-m", "auth_service.migrate"),
        ),
    ),
    _service(
        "chat-api",
        _uvicorn(
            "chat_service.api.app:create_app",
            "chat-api",
            "--no-access-log",
            # Open SSE streams would otherwise hold shutdown until their clients leave.
            "--timeout-graceful-shutdown",
            "3",
        ),
        "/readyz",
        "/app",
        before_start=((PY, "-m", "chat_service.store.migrate"),),
        setup_user="chat-migrations",
        package="chat-service",
    ),
    _service(
        "chat-worker",
        (PY, "-m", "chat_service.worker"),
        "/readyz",
        "/metrics",
        env={**SERVICE_ENV, "WORKER_PORT": str(PORTS["chat-worker"])},
        package="chat-service",
    ),
    _service(
        "aggregator",
        (PY, "-m", "aggregator"),
        "/healthz",
        "/metrics",
        env={**SERVICE_ENV, "METRICS_PORT": str(PORTS["aggregator"])},
    ),
)

# What the local Prometheus scrapes: every service's /metrics, the job named as the
# component.
SCRAPE_TARGETS = {service.name: _local(service.name) for service in SERVICES}
