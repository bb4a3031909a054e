"""An open appeal whose workflow ended early (terminated, failed, timed out, cancelled before it
could close the appeal) is flagged, for supervisors to restart or close

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("appeal", sa.Column("workflow_ended", sa.String(length=16), nullable=True))
    op.create_index(
        "ix_appeal_workflow_ended", "appeal", ["workflow_ended"], postgresql_where=sa.text("workflow_ended IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_appeal_workflow_ended", table_name="appeal")
    op.drop_column("appeal", "workflow_ended")
