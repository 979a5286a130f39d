"""user_event_outbox: events about users (user.deleted), written in the same transaction
as the change they announce, published to Kafka by the service's relay

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_event_outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_event_outbox")),
    )
    op.create_index(op.f("ix_user_event_outbox_created_at"), "user_event_outbox", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_user_event_outbox_created_at"), table_name="user_event_outbox")
    op.drop_table("user_event_outbox")
