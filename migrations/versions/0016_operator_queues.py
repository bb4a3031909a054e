"""The operators' queues, oldest first: an index of appeals by status and the day received (held
orders, objections, return visits due), and a partial one of extension requests waiting for review

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-14
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_appeal_status_received", "appeal", ["status", "received_at", "appeal_no"])
    op.create_index(
        "ix_appeal_extension_requested",
        "appeal",
        ["received_at", "appeal_no"],
        postgresql_where=sa.text("(state ->> 'extension') = 'requested'"),
    )


def downgrade() -> None:
    op.drop_index("ix_appeal_extension_requested", table_name="appeal")
    op.drop_index("ix_appeal_status_received", table_name="appeal")
