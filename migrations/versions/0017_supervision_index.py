"""What needs supervising (GET /supervision and its counts per district and unit): the few appeals
overdue, under supervision or whose workflow ended, oldest first, with what the counts group by,
so neither reads the whole appeal table

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_appeal_supervision",
        "appeal",
        ["received_at", "appeal_no"],
        postgresql_include=[
            "status", "district_code", "handling_unit_code", "overdue", "supervised", "supervision_level",
            "workflow_ended",
        ],
        postgresql_where=sa.text("overdue OR supervised OR workflow_ended IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_appeal_supervision", table_name="appeal")
