"""infra/rights/source.py, the one source of every component's rights, and what restates it
for people: docs/deploy.md's table."""

from pathlib import Path

from infra.rights.source import COMPONENTS
from infra.rights.table import render


def test_the_docs_table_of_rights_is_the_sources(repo: Path) -> None:
    text = (repo / "docs" / "deploy.md").read_text()
    start = text.index("<!-- rights table:")
    table = text[text.index("\n", start) + 1 : text.index("<!-- end of rights table -->")]
    assert table == render(), "run `python -m infra.rights` and paste its table"


def test_no_service_role_owns_a_schema_and_setup_is_not_a_service() -> None:
    for component in COMPONENTS.values():
        owner = bool(
            (component.postgres and component.postgres.owner)
            or (component.cassandra and component.cassandra.owner)
            or (component.kafka and component.kafka.create_topics)
        )
        # Owners are one-shot setup: they serve nothing and call nothing.
        assert not owner or not (component.serves or component.metrics_port), component.name
