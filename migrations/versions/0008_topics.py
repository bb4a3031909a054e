"""Topics of the appeals' text, the appeals that came back, and the indexes of high-frequency and
recurring problems

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22

Appeals already in the table get their topics from `python -m analytics.topics` (which cuts
Chinese text with jieba, something a migration should not depend on) and whether they came back
from `python -m analytics.recurring`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appeal_topic",
        sa.Column("appeal_no", sa.String(length=32), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("category_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("district_code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
        sa.Column("street_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["appeal_no"], ["appeal.appeal_no"], name=op.f("fk_appeal_topic_appeal_no_appeal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("appeal_no", "topic", name=op.f("pk_appeal_topic")),
    )
    op.create_index(
        "ix_appeal_topic_period",
        "appeal_topic",
        ["received_at"],
        unique=False,
        postgresql_include=["topic", "category_code", "district_code", "street_code"],
    )
    op.create_index("ix_appeal_topic_topic", "appeal_topic", ["topic", "received_at"], unique=False)
    op.create_table(
        "appeal_return",
        sa.Column("appeal_no", sa.String(length=32), nullable=False),
        sa.Column("matched_by", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("previous_no", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("previous_closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("problem_no", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("category_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("district_code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
        sa.Column("street_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["appeal_no"], ["appeal.appeal_no"], name=op.f("fk_appeal_return_appeal_no_appeal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("appeal_no", "matched_by", name=op.f("pk_appeal_return")),
    )
    op.create_index(
        "ix_appeal_return_period",
        "appeal_return",
        ["received_at"],
        unique=False,
        postgresql_include=["previous_closed_at", "problem_no", "category_code", "district_code", "street_code"],
    )
    op.create_index("ix_appeal_return_problem", "appeal_return", ["problem_no", "received_at"], unique=False)
    op.create_index(
        "ix_appeal_hotspot",
        "appeal",
        ["received_at"],
        unique=False,
        postgresql_include=["category_code", "district_code", "street_code", "appeal_no"],
    )
    op.create_index(
        "ix_appeal_resolved_address",
        "appeal",
        ["category_code", "street_code", "location_address", "closed_at"],
        unique=False,
        postgresql_include=["appeal_no"],
        postgresql_where=sa.text("outcome = 'resolved' AND location_address IS NOT NULL"),
    )
    op.create_index(
        "ix_appeal_resolved_point",
        "appeal",
        ["category_code", "latitude"],
        unique=False,
        postgresql_include=["longitude", "closed_at", "appeal_no"],
        postgresql_where=sa.text("outcome = 'resolved' AND latitude IS NOT NULL AND longitude IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_appeal_resolved_point", table_name="appeal")
    op.drop_index("ix_appeal_resolved_address", table_name="appeal")
    op.drop_index("ix_appeal_hotspot", table_name="appeal")
    op.drop_index("ix_appeal_return_problem", table_name="appeal_return")
    op.drop_index("ix_appeal_return_period", table_name="appeal_return")
    op.drop_table("appeal_return")
    op.drop_index("ix_appeal_topic_topic", table_name="appeal_topic")
    op.drop_index("ix_appeal_topic_period", table_name="appeal_topic")
    op.drop_table("appeal_topic")
