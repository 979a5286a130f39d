"""The stores' own command-line tools, connected to the local stack: `make cqlsh`,
`make psql`, `make kafka-topics ARGS=...`, `make kafka-console-consumer TOPIC=...`.

Each tool gets its address from the same settings `make up` gives the services, and logs in
as the local `operator` user of infra/rights/source.py (its passwords are generated into
.state/credentials/ like every component's), so it is refused nothing and no component's
identity is borrowed for it.
"""

import os
import shutil
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from infra.rights.local import tool_files
from infra.stack.components import PORTS, SERVICE_ENV
from infra.stack.paths import REPO, VENV_BIN, state_dir

USER = "operator"
KAFKA_TOOLS = {
    "kafka-topics": "org.apache.kafka.tools.TopicCommand",
    "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
}


def command(tool: str, args: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The argv and extra environment that run `tool` against the local stack."""
    if tool == "cqlsh":
        keyspace = SERVICE_ENV.get("CASSANDRA_KEYSPACE", "chat")
        _, credentials = tool_files(USER)
        argv = [str(VENV_BIN / "cqlsh"), "--credentials", str(credentials), "-k", keyspace]
        return [*argv, "127.0.0.1", str(PORTS["cassandra"]), *args], {}
    if tool == "psql":
        url = urlsplit(SERVICE_ENV["DATABASE_URL"])
        psql = shutil.which("psql") or "psql"
        user, database = url.username or "postgres", url.path.lstrip("/")
        argv = [psql, "-h", "127.0.0.1", "-p", str(PORTS["postgres"]), "-U", user, database]
        return [*argv, *args], {}
    if tool in KAFKA_TOOLS:
        script = str(REPO / "infra" / "kafka" / "tool.sh")
        bootstrap = f"127.0.0.1:{PORTS['kafka']}"
        config, _ = tool_files(USER)
        argv = ["bash", script, KAFKA_TOOLS[tool], "--bootstrap-server", bootstrap]
        argv += ["--command-config", str(config), *args]
        return argv, {"STATE_DIR": str(state_dir("kafka"))}
    raise SystemExit(f"unknown tool {tool!r}; one of cqlsh, psql, {', '.join(KAFKA_TOOLS)}")


def main(argv: Sequence[str]) -> None:
    if not argv:
        raise SystemExit("usage: python -m infra.stack.store_tools TOOL [ARGS...]")
    args, env = command(argv[0], argv[1:])
    os.execvpe(args[0], args, {**os.environ, **env})


if __name__ == "__main__":
    main(sys.argv[1:])
