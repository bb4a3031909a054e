"""A unit's inbox of parts (GET /parts): each part's report-in limit, which of its limits were
missed, its round, and an index for one unit's open parts by their limit

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The parts recorded before these columns: read from the view their appeal projected last
#: (`appeal.state.parts`, keyed `<kind>:<unit>`), which holds the same part.
_BACKFILL = """
    UPDATE appeal_part p SET
        report_in_due = (v.part ->> 'report_in_due')::timestamptz,
        report_in_missed = coalesce((v.part ->> 'report_in_missed')::boolean, false),
        missed = coalesce((v.part ->> 'missed')::boolean, false),
        round = coalesce((v.part ->> 'round')::int, 1)
    FROM (SELECT a.appeal_no, k.key, k.value AS part
          FROM appeal a, jsonb_each(CASE WHEN jsonb_typeof(a.state -> 'parts') = 'object'
                                         THEN a.state -> 'parts' ELSE '{}' END) AS k) v
    WHERE v.appeal_no = p.appeal_no AND v.key = p.kind || ':' || p.unit_code
"""


def upgrade() -> None:
    op.add_column("appeal_part", sa.Column("report_in_due", sa.DateTime(timezone=True), nullable=True))
    op.add_column("appeal_part", sa.Column("report_in_missed", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("appeal_part", sa.Column("missed", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("appeal_part", sa.Column("round", sa.Integer(), server_default="1", nullable=False))
    op.execute(_BACKFILL)
    op.create_index("ix_appeal_part_inbox", "appeal_part", ["unit_code", "status", "due"])


def downgrade() -> None:
    op.drop_index("ix_appeal_part_inbox", table_name="appeal_part")
    op.drop_column("appeal_part", "round")
    op.drop_column("appeal_part", "missed")
    op.drop_column("appeal_part", "report_in_missed")
    op.drop_column("appeal_part", "report_in_due")
