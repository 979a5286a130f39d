"""The rights of infra/rights/source.py on the local servers of `make up`.

Every user's passwords are generated once into .state/credentials/<user>.env (the settings
a client reads: KAFKA_SASL_*, CASSANDRA_USERNAME/PASSWORD), like the local JWT key. `admin`
is the super user of each store, for this setup only.

Kafka: a SCRAM-SHA-512 user per component; the users are written into Kafka's metadata
when its storage is formatted, and the ACLs are applied with the Kafka distribution's own
kafka-acls (infra/kafka/admin.sh) after it starts.
Cassandra: a login role per component, granted what the source says (CQL, as `admin`).
"""

import json
import os
import secrets
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from infra.rights.source import COMPONENTS
from infra.stack.paths import REPO, STATE, state_dir

CREDENTIALS = STATE / "credentials"
ADMIN = "admin"
MECHANISM = "SCRAM-SHA-512"
KAFKA_ADMIN = REPO / "infra" / "kafka" / "admin.sh"
# The ACLs applied last (kafka-acls is slow to start: only changes are sent).
ACLS_APPLIED = "acls-applied.json"
# The SCRAM users Kafka's metadata holds (written by run.sh at format, then here).
SCRAM_USERS = "scram-users.txt"


def kafka_users() -> list[str]:
    return [ADMIN, *(name for name, c in COMPONENTS.items() if c.kafka)]


def cassandra_users() -> list[str]:
    return [ADMIN, *(name for name, c in COMPONENTS.items() if c.cassandra)]


def _credentials_file(user: str) -> Path:
    return CREDENTIALS / f"{user}.env"


def _new_password() -> str:
    # Hex: nothing that JAAS, CQL or kafka-storage's `[name=..,password=..]` would parse.
    return secrets.token_hex(24)


def _wanted(user: str) -> dict[str, str]:
    """The settings `user` needs, with fresh passwords (kept only where missing)."""
    out: dict[str, str] = {}
    if user in kafka_users():
        out |= {
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_SASL_MECHANISM": MECHANISM,
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD": _new_password(),
        }
    if user in cassandra_users():
        out |= {"CASSANDRA_USERNAME": user, "CASSANDRA_PASSWORD": _new_password()}
    return out


def ensure_credentials() -> None:
    """Generate each user's passwords once (never committed: .state is git-ignored); a
    store added to the source later adds its lines, keeping the others."""
    CREDENTIALS.mkdir(parents=True, exist_ok=True)
    CREDENTIALS.chmod(0o700)
    for user in dict.fromkeys([*kafka_users(), *cassandra_users()]):
        path = _credentials_file(user)
        have = _read(path) if path.exists() else {}
        merged = {**_wanted(user), **have}
        if merged == have:
            continue
        temporary = path.with_suffix(".tmp")
        temporary.write_text("".join(f"{k}={v}\n" for k, v in merged.items()))
        temporary.chmod(0o600)
        temporary.rename(path)


def _read(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


def credentials_env(user: str) -> dict[str, str]:
    """The settings (the services' names) that make a client connect as `user`."""
    ensure_credentials()
    return _read(_credentials_file(user))


def kafka_env(user: str) -> dict[str, str]:
    return {k: v for k, v in credentials_env(user).items() if k.startswith("KAFKA_")}


def aiokafka_kwargs(user: str) -> dict[str, Any]:
    """aiokafka client keyword arguments for `user` (as the services build theirs)."""
    from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs

    return kafka_client_kwargs(KafkaAccessSettings(**kafka_env(user)))  # type: ignore[arg-type]


def write_kafka_server_files(state: Path) -> None:
    """What infra/kafka/run.sh and admin.sh read: the users to format with, and the admin
    client's configuration."""
    ensure_credentials()
    scram = [
        f"{MECHANISM}=[name={user},password={kafka_env(user)['KAFKA_SASL_PASSWORD']}]"
        for user in kafka_users()
    ]
    _private(state / "scram.args", "\n".join(scram) + "\n")
    _private(state / "admin.properties", kafka_client_properties(ADMIN))


def kafka_client_properties(user: str) -> str:
    """A Java client's configuration (Kafka's own tools) that connects as `user`."""
    password = kafka_env(user)["KAFKA_SASL_PASSWORD"]
    properties = [
        "security.protocol=SASL_PLAINTEXT",
        f"sasl.mechanism={MECHANISM}",
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{user}" password="{password}";',
    ]
    return "\n".join(properties) + "\n"


def tool_files(user: str) -> tuple[Path, Path]:
    """(Kafka client properties, cqlsh credentials file) for `user`, private to root."""
    ensure_credentials()
    kafka = CREDENTIALS / f"{user}.properties"
    _private(kafka, kafka_client_properties(user))
    env = credentials_env(user)
    cql = CREDENTIALS / f"{user}.cql-credentials"
    _private(
        cql,
        "[PlainTextAuthProvider]\n"
        f"username = {env['CASSANDRA_USERNAME']}\npassword = {env['CASSANDRA_PASSWORD']}\n",
    )
    return kafka, cql


def _private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


Binding = tuple[str, str, str, str]  # user, resource type, name, operation


def desired_acls() -> set[Binding]:
    return {
        (name, *acl)
        for name, component in COMPONENTS.items()
        if component.kafka
        for acl in component.kafka.acls()
    }


def acl_commands(bindings: set[Binding], action: str) -> list[list[str]]:
    """kafka-acls argument lists for `bindings`, one per user and resource type and set
    of operations (each call takes every resource given to every operation given)."""
    by_resource: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for user, kind, name, operation in bindings:
        by_resource[(user, kind, name)].add(operation)
    grouped: dict[tuple[str, str, frozenset[str]], list[str]] = defaultdict(list)
    for (user, kind, name), operations in by_resource.items():
        grouped[(user, kind, frozenset(operations))].append(name)
    commands = []
    for (user, kind, allowed), names in sorted(grouped.items(), key=str):
        argv = [action, "--force", "--allow-principal", f"User:{user}"]
        for operation in sorted(allowed):
            argv += ["--operation", operation]
        if kind == "cluster":
            argv.append("--cluster")
        else:
            for name in sorted(names):
                argv += [f"--{kind}", name]
        commands.append(argv)
    return commands


def _admin(port: int, tool: str, argv: list[str]) -> None:
    env = {**os.environ, "STATE_DIR": str(state_dir("kafka")), "PORT": str(port)}
    done = subprocess.run(
        ["bash", str(KAFKA_ADMIN), tool, *argv], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"kafka {tool} {' '.join(argv)} failed:\n{done.stderr[-2000:]}")


def apply_kafka_rights(port: int) -> None:
    """SCRAM users added since the format, then the ACLs that changed since last time."""
    state = state_dir("kafka")
    known_file = state / SCRAM_USERS
    known = set(known_file.read_text().split()) if known_file.exists() else set()
    for user in kafka_users():
        if user not in known:
            password = kafka_env(user)["KAFKA_SASL_PASSWORD"]
            config = f"{MECHANISM}=[password={password}]"
            _admin(
                port,
                "ConfigCommand",
                ["--alter", "--add-config", config]
                + ["--entity-type", "users", "--entity-name", user],
            )
            known.add(user)
            known_file.write_text("\n".join(sorted(known)) + "\n")
    applied_file = state / ACLS_APPLIED
    applied: set[Binding] = set()
    if applied_file.exists():
        applied = {(u, k, n, o) for u, k, n, o in json.loads(applied_file.read_text())}
    wanted = desired_acls()
    commands = acl_commands(applied - wanted, "--remove")
    commands += acl_commands(wanted - applied, "--add")
    # Two at a time: each is a JVM start on a small machine.
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda argv: _admin(port, "AclCommand", argv), commands))
    applied_file.write_text(json.dumps(sorted(wanted)))


def main(argv: list[str]) -> None:
    if argv == ["kafka-server-files"]:
        write_kafka_server_files(Path(os.environ["STATE_DIR"]))
    elif argv == ["credentials"]:
        ensure_credentials()
    else:
        sys.exit("usage: python -m infra.rights.local {kafka-server-files|credentials}")


if __name__ == "__main__":
    main(sys.argv[1:])


def cassandra_auth(user: str) -> Any:
    """The driver's auth provider for `user`."""
    from cassandra.auth import PlainTextAuthProvider

    env = credentials_env(user)
    return PlainTextAuthProvider(env["CASSANDRA_USERNAME"], env["CASSANDRA_PASSWORD"])


# The role every new Cassandra node makes for a first login; locked once `admin` exists.
DEFAULT_CASSANDRA_LOGIN = ("cassandra", "cassandra")


def cassandra_connect(auth: Any, port: int = 9042) -> Any:
    """A driver Cluster connected to the local node with `auth` (shut down if it fails)."""
    from cassandra.cluster import Cluster

    cluster = Cluster(["127.0.0.1"], port=port, auth_provider=auth, protocol_version=5)
    try:
        cluster.connect()
    except BaseException:
        cluster.shutdown()
        raise
    return cluster


def cassandra_session(port: int) -> Any:
    """A Cluster logged in as `admin`, made first (from the default role) if needed."""
    from cassandra import AuthenticationFailed
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import NoHostAvailable

    def connect(auth: Any) -> Any:
        return cassandra_connect(auth, port)

    try:
        return connect(cassandra_auth(ADMIN))
    except (AuthenticationFailed, NoHostAvailable) as error:
        if "authentication" not in repr(error).lower() and "credentials" not in repr(error):
            raise
    first = connect(PlainTextAuthProvider(*DEFAULT_CASSANDRA_LOGIN))
    password = credentials_env(ADMIN)["CASSANDRA_PASSWORD"]
    session = first.connect()
    session.execute(
        f"CREATE ROLE IF NOT EXISTS {ADMIN} WITH SUPERUSER = true AND LOGIN = true "
        f"AND PASSWORD = '{password}'"
    )
    first.shutdown()
    cluster = connect(cassandra_auth(ADMIN))
    # The published default login no longer works.
    cluster.connect().execute(
        f"ALTER ROLE cassandra WITH LOGIN = false AND PASSWORD = '{_new_password()}'"
    )
    return cluster


def apply_cassandra_rights(port: int) -> None:
    """Each component's role and grants (idempotent; run before and after the migration,
    since a keyspace can be granted on only once it exists)."""
    cluster = cassandra_session(port)
    try:
        session = cluster.connect()
        keyspaces = {
            row.keyspace_name
            for row in session.execute("SELECT keyspace_name FROM system_schema.keyspaces")
        }
        for name, component in COMPONENTS.items():
            rights = component.cassandra
            if rights is None:
                continue
            role = f'"{name}"'
            password = credentials_env(name)["CASSANDRA_PASSWORD"]
            session.execute(
                f"CREATE ROLE IF NOT EXISTS {role} WITH LOGIN = true AND PASSWORD = '{password}'"
            )
            grants = []
            if rights.everything:
                # Virtual tables are outside "all keyspaces": the bench reads the write
                # latencies of system_views.
                grants += ["ALL PERMISSIONS ON ALL KEYSPACES", "SELECT ON KEYSPACE system_views"]
            if rights.owner:
                # It creates the keyspace, and owns it (and whatever it made before auth).
                grants.append("CREATE ON ALL KEYSPACES")
                if rights.keyspace in keyspaces:
                    grants.append(f"ALL PERMISSIONS ON KEYSPACE {rights.keyspace}")
            if rights.read_write and rights.keyspace in keyspaces:
                grants += [f"{p} ON KEYSPACE {rights.keyspace}" for p in ("SELECT", "MODIFY")]
            for grant in grants:
                session.execute(f"GRANT {grant} TO {role}")
    finally:
        cluster.shutdown()
