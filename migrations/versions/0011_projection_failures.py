"""A part's closing reason holds what the API accepts; the appeal row records a refused projection

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

`appeal_part.closed_reason` was varchar(500) while the API accepts reasons of 2,000 characters
(and a declined part's is "declined: " and the unit's reason): a longer one made every projection
of the appeal fail. `appeal.projection_failed_at` / `projection_error` say that PostgreSQL
refused the workflow's last projection, so the row lags behind it, and why.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("appeal_part", "closed_reason", type_=sa.Text(), existing_type=sa.String(500), existing_nullable=True)
    op.add_column("appeal", sa.Column("projection_failed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("appeal", sa.Column("projection_error", sa.String(300), nullable=True))


def downgrade() -> None:
    op.drop_column("appeal", "projection_error")
    op.drop_column("appeal", "projection_failed_at")
    op.alter_column(
        "appeal_part",
        "closed_reason",
        type_=sa.String(500),
        existing_type=sa.Text(),
        existing_nullable=True,
        postgresql_using="left(closed_reason, 500)",
    )
