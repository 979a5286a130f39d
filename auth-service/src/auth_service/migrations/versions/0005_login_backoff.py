"""login_backoff: per-account login attempts across every address, and when the next one
may come (exponential backoff once LOGIN_FAILURES_PER_ACCOUNT is reached)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_backoff",
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_login_backoff")),
    )
    op.create_index(op.f("ix_login_backoff_last_attempt_at"), "login_backoff", ["last_attempt_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_backoff_last_attempt_at"), table_name="login_backoff")
    op.drop_table("login_backoff")
