"""A unit's lists and everyone's inbox without reading the whole appeal table: the appeals a unit
has handled (the view's `units`, a GIN index: with the handling unit's index and the parts' it
makes "visible to the unit" a bitmap OR instead of a scan of every appeal), and the open orders
by the limit they work to now (the inbox's order, so a page of it reads fifty rows, not every
open order sorted)

The expressions are written out as `db.appeals` writes them (UNITS_SQL, NEXT_DUE_SQL,
OPEN_ORDER_SQL, copied here as they were when this revision was made); a test asks the planner
for both indexes through the API's own statements, generic plans included.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEXT_DUE = (
    "CASE WHEN appeal.status NOT IN ('closed', 'answered', 'awaiting_evaluation', 'linked') "
    "AND appeal.contact_deadline IS NOT NULL AND (appeal.state #>> '{limits,contact,met_at}') IS NULL "
    "THEN appeal.contact_deadline "
    "WHEN appeal.status NOT IN ('closed', 'answered', 'awaiting_evaluation', 'linked') "
    "AND appeal.completion_deadline IS NOT NULL AND (appeal.state #>> '{limits,completion,met_at}') IS NULL "
    "THEN appeal.completion_deadline END"
)
OPEN_ORDER = (
    "appeal.status IN ('received', 'dispatched', 'objection_raised', 'accepted', 'contacted', 'in_progress', "
    "'awaiting_evaluation', 'rehandling', 'linked')"
)


def upgrade() -> None:
    op.execute("CREATE INDEX ix_appeal_units ON appeal USING gin ((appeal.state['units']) jsonb_path_ops)")
    op.create_index(
        "ix_appeal_open_due",
        "appeal",
        [sa.text(f"({NEXT_DUE})"), sa.text("received_at DESC"), sa.text("appeal_no DESC")],
        postgresql_where=sa.text(OPEN_ORDER),
    )


def downgrade() -> None:
    op.drop_index("ix_appeal_open_due", table_name="appeal")
    op.drop_index("ix_appeal_units", table_name="appeal")
