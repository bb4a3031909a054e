"""Channels registered for Open311 GeoReport v2 (their keys kept hashed, revocable), and an
index for the public list of requests (newest first, 举报 never listed)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False, server_default="app"),
        sa.Column("trusted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_channel"),
        sa.UniqueConstraint("key_hash", name="uq_channel_key_hash"),
    )
    op.create_index(
        "ix_appeal_open311_public", "appeal", [sa.text("received_at DESC"), sa.text("appeal_no DESC")],
        postgresql_where=sa.text("appeal_type <> 'report'"),
    )


def downgrade() -> None:
    op.drop_index("ix_appeal_open311_public", table_name="appeal")
    op.drop_table("channel")
