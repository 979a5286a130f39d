"""refresh_family (one row per login: lock, absolute lifetime, revocation) and
rate_limit_counter (attempt counters shared by every replica)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Sessions that predate this migration get the default absolute lifetime from their login.
BACKFILL_LIFETIME = "30 days"


def upgrade() -> None:
    op.create_table(
        "refresh_family",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_refresh_family_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_family")),
    )
    op.create_index(op.f("ix_refresh_family_user_id"), "refresh_family", ["user_id"])
    # One family row per existing login chain, revoked if any of its tokens was.
    op.execute(
        sa.text(
            "INSERT INTO refresh_family (id, user_id, created_at, expires_at, revoked_at) "
            "SELECT family_id, min(user_id::text)::uuid, min(created_at), "
            f"min(created_at) + interval '{BACKFILL_LIFETIME}', max(revoked_at) "
            "FROM refresh_token GROUP BY family_id"
        )
    )
    op.create_foreign_key(
        op.f("fk_refresh_token_family_id_refresh_family"),
        "refresh_token",
        "refresh_family",
        ["family_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_table(
        "rate_limit_counter",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_limit_counter")),
    )
    op.create_index(
        op.f("ix_rate_limit_counter_window_start"), "rate_limit_counter", ["window_start"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_counter_window_start"), table_name="rate_limit_counter")
    op.drop_table("rate_limit_counter")
    op.drop_constraint(
        op.f("fk_refresh_token_family_id_refresh_family"), "refresh_token", type_="foreignkey"
    )
    op.drop_index(op.f("ix_refresh_family_user_id"), table_name="refresh_family")
    op.drop_table("refresh_family")
