"""Assessment: what the three rates need on the appeal row, audited exclusions, frozen months

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('assessment_run',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('frozen_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('appeals', sa.Integer(), nullable=False),
    sa.Column('settings', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_assessment_run'))
    )
    op.create_table('assessment_fact',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('appeal_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('unit_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('district_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('street_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('contacted_in_time', sa.Boolean(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('satisfaction', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['month'], ['assessment_run.month'], name=op.f('fk_assessment_fact_month_assessment_run')),
    sa.PrimaryKeyConstraint('month', 'appeal_no', name=op.f('pk_assessment_fact'))
    )
    op.create_index('ix_assessment_fact_month_unit', 'assessment_fact', ['month', 'unit_code'], unique=False)
    op.create_table('assessment_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('unit_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('district_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('street_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('excluded', sa.Integer(), nullable=False),
    sa.Column('not_evaluated', sa.Integer(), nullable=False),
    sa.Column('base', sa.Integer(), nullable=False),
    sa.Column('contacted_in_time', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('basically_satisfied', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['month'], ['assessment_run.month'], name=op.f('fk_assessment_rollup_month_assessment_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_rollup')),
    sa.UniqueConstraint('month', 'unit_code', 'district_code', 'street_code', 'category_code', name='uq_assessment_rollup_cell', postgresql_nulls_not_distinct=True)
    )
    op.create_index(op.f('ix_assessment_rollup_month'), 'assessment_rollup', ['month'], unique=False)
    op.create_table('assessment_exclusion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['appeal_no'], ['appeal.appeal_no'], name=op.f('fk_assessment_exclusion_appeal_no_appeal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_exclusion'))
    )
    op.create_index(op.f('ix_assessment_exclusion_appeal_no'), 'assessment_exclusion', ['appeal_no'], unique=False)
    op.add_column('appeal', sa.Column('contacted_in_time', sa.Boolean(), nullable=True))
    op.add_column('appeal', sa.Column('excluded', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    # rows projected before this revision: the contact limit of their last round, from the view
    op.execute(
        """
        UPDATE appeal SET contacted_in_time =
            (state->'limits'->'contact'->>'met_at')::timestamptz <= (state->'limits'->'contact'->>'due')::timestamptz
        WHERE state->'limits'->'contact'->>'met_at' IS NOT NULL
        """
    )
    op.execute(
        """
        UPDATE appeal SET contacted_in_time = false
        WHERE contacted_in_time IS NULL AND (state->'limits'->'contact'->>'missed')::boolean
        """
    )
    op.execute(
        """
        CREATE FUNCTION assessment_exclusion_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the assessment exclusion audit is append-only';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER assessment_exclusion_append_only BEFORE UPDATE OR DELETE ON assessment_exclusion "
        "FOR EACH ROW EXECUTE FUNCTION assessment_exclusion_append_only()"
    )
    op.create_index('ix_appeal_assessment', 'appeal', ['closed_at'], unique=False, postgresql_include=['handling_unit_code', 'district_code', 'street_code', 'category_code', 'contacted_in_time', 'outcome', 'satisfaction', 'excluded'], postgresql_where=sa.text("handling_unit_code IS NOT NULL AND outcome IN ('resolved', 'unresolved', 'not_evaluated')"))


def downgrade() -> None:
    op.drop_index('ix_appeal_assessment', table_name='appeal', postgresql_include=['handling_unit_code', 'district_code', 'street_code', 'category_code', 'contacted_in_time', 'outcome', 'satisfaction', 'excluded'], postgresql_where=sa.text("handling_unit_code IS NOT NULL AND outcome IN ('resolved', 'unresolved', 'not_evaluated')"))
    op.drop_column('appeal', 'excluded')
    op.drop_column('appeal', 'contacted_in_time')
    op.execute("DROP TRIGGER assessment_exclusion_append_only ON assessment_exclusion")
    op.execute("DROP FUNCTION assessment_exclusion_append_only()")
    op.drop_index(op.f('ix_assessment_exclusion_appeal_no'), table_name='assessment_exclusion')
    op.drop_table('assessment_exclusion')
    op.drop_index(op.f('ix_assessment_rollup_month'), table_name='assessment_rollup')
    op.drop_table('assessment_rollup')
    op.drop_index('ix_assessment_fact_month_unit', table_name='assessment_fact')
    op.drop_table('assessment_fact')
    op.drop_table('assessment_run')
