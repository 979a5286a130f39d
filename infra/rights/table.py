"""The who-may-do-what table of docs/deploy.md, rendered from the source (a test checks
that the document holds exactly this)."""

from infra.rights.source import COMPONENTS, Component

HEADER = (
    "| component | runs as | Kafka | Cassandra | Postgres | connects to |\n"
    "|---|---|---|---|---|---|"
)


def _kafka(c: Component) -> str:
    if c.kafka is None:
        return ""
    k = c.kafka
    parts = [f"read {', '.join(sorted(k.read))}"] if k.read else []
    parts += [f"write {', '.join(sorted(k.write))}"] if k.write else []
    parts += [f"groups {', '.join(sorted(k.groups))}"] if k.groups else []
    parts += ["create topics"] if k.create_topics else []
    parts += ["every topic and group, create topics"] if k.everything else []
    return "; ".join(parts)


def _cassandra(c: Component) -> str:
    if c.cassandra is None:
        return ""
    if c.cassandra.everything:
        return "every keyspace"
    what = "owner (DDL)" if c.cassandra.owner else "select, modify"
    return f"`{c.cassandra.keyspace}`: {what}"


def _postgres(c: Component) -> str:
    if c.postgres is None:
        return ""
    what = "owner (DDL)" if c.postgres.owner else "rows only"
    return f"role `{c.postgres.role}` on `{c.postgres.database}`: {what}"


def render() -> str:
    rows = [HEADER]
    for c in COMPONENTS.values():
        peers = ", ".join(sorted(c.peers()))
        rows.append(
            f"| {c.name} | {c.workload or '(local only)'} | {_kafka(c)} | {_cassandra(c)} "
            f"| {_postgres(c)} | {peers} |"
        )
    return "\n".join(rows) + "\n"
