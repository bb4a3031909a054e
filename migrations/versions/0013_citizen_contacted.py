"""The response rate counts what the citizen says at the return visit about being contacted

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

`appeal.citizen_contacted` (yes | no | not_asked, null before an evaluation) is the latest
round's answer; `assessment_fact` captures it with a frozen month, and `assessment_rollup.responded`
counts what the response rate counts (the citizen's answer, else the unit's record of contact
within the limit). Months frozen before this had no answers to count, so their `responded` is
their `contacted_in_time`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE = sa.text("handling_unit_code IS NOT NULL AND outcome IN ('resolved', 'unresolved', 'not_evaluated')")
_INCLUDE = ["handling_unit_code", "district_code", "street_code", "category_code", "contacted_in_time"]
_REST = ["outcome", "satisfaction", "excluded"]


def upgrade() -> None:
    op.add_column("appeal", sa.Column("citizen_contacted", sa.String(length=12), nullable=True))
    op.add_column("assessment_fact", sa.Column("citizen_contacted", sa.String(length=12), nullable=True))
    op.add_column("assessment_rollup", sa.Column("responded", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE assessment_rollup SET responded = contacted_in_time")
    op.alter_column("assessment_rollup", "responded", server_default=None)
    # the rates read the answer beside the unit's record: keep them index-only
    op.drop_index("ix_appeal_assessment", table_name="appeal")
    op.create_index(
        "ix_appeal_assessment", "appeal", ["closed_at"],
        postgresql_include=[*_INCLUDE, "citizen_contacted", *_REST], postgresql_where=_WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_appeal_assessment", table_name="appeal")
    op.create_index(
        "ix_appeal_assessment", "appeal", ["closed_at"], postgresql_include=[*_INCLUDE, *_REST], postgresql_where=_WHERE
    )
    op.drop_column("assessment_rollup", "responded")
    op.drop_column("assessment_fact", "citizen_contacted")
    op.drop_column("appeal", "citizen_contacted")
