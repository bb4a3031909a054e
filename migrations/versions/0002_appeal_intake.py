"""Appeal intake: the appeal-number sequence, the idempotency fingerprint, the citizen token
version, limits counted in minutes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


LIMIT_UNIT_COLUMNS = [
    ("time_limit_policy", f"{limit}_unit")
    for limit in ("contact_limit", "completion_limit", "objection_window", "return_visit_window")
]


def upgrade() -> None:
    op.execute("ALTER TYPE limit_unit ADD VALUE IF NOT EXISTS 'minutes' BEFORE 'hours'")
    op.execute(sa.schema.CreateSequence(sa.Sequence("appeal_no_seq")))
    op.add_column(
        "appeal",
        sa.Column("idempotency_fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.add_column(
        "appeal",
        sa.Column("citizen_token_version", sa.Integer(), server_default="1", nullable=False),
    )
    op.create_index("ix_appeal_event_kind_occurred_at", "appeal_event", ["kind", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_appeal_event_kind_occurred_at", table_name="appeal_event")
    op.drop_column("appeal", "citizen_token_version")
    op.drop_column("appeal", "idempotency_fingerprint")
    op.execute(sa.schema.DropSequence(sa.Sequence("appeal_no_seq")))
    # PostgreSQL cannot drop an enum value: rebuild the type without it
    op.execute(
        "DELETE FROM time_limit_policy WHERE 'minutes' IN (contact_limit_unit::text, "
        "completion_limit_unit::text, objection_window_unit::text, return_visit_window_unit::text)"
    )
    op.execute("ALTER TYPE limit_unit RENAME TO limit_unit_old")
    op.execute("CREATE TYPE limit_unit AS ENUM ('hours', 'days', 'working_days')")
    for table, column in LIMIT_UNIT_COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE limit_unit USING {column}::text::limit_unit")
    op.execute("DROP TYPE limit_unit_old")
