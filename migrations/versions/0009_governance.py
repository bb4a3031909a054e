"""Governance tasks and their inspections, the monthly theme (每月一题) and its problems, the
themes the monthly analysis proposed

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('monthly_theme',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('chosen_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('chosen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_monthly_theme'))
    )
    op.create_table('theme_candidate',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('district_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('previous', sa.Integer(), nullable=False),
    sa.Column('change', sa.Integer(), nullable=False),
    sa.Column('change_pct', sa.Float(), nullable=True),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('examples', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('month', 'rank', name=op.f('pk_theme_candidate'))
    )
    op.create_table('governance_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workflow_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('district_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('street_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('location_address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('radius_m', sa.Integer(), nullable=True),
    sa.Column('owner_unit_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('evidence', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('interval_days', sa.Integer(), nullable=False),
    sa.Column('quiet_days', sa.Integer(), nullable=False),
    sa.Column('clean_inspections', sa.Integer(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('quiet_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('clean_streak', sa.Integer(), nullable=False),
    sa.Column('inspections', sa.Integer(), nullable=False),
    sa.Column('last_inspection_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.Column('closed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['category_code'], ['category.code'], name=op.f('fk_governance_task_category_code_category')),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_governance_task_district_code_district')),
    sa.ForeignKeyConstraint(['owner_unit_code'], ['unit.code'], name=op.f('fk_governance_task_owner_unit_code_unit')),
    sa.ForeignKeyConstraint(['street_code'], ['unit.code'], name=op.f('fk_governance_task_street_code_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_governance_task')),
    sa.UniqueConstraint('workflow_id', name=op.f('uq_governance_task_workflow_id'))
    )
    op.create_index(op.f('ix_governance_task_category_code'), 'governance_task', ['category_code'], unique=False)
    op.create_index(op.f('ix_governance_task_district_code'), 'governance_task', ['district_code'], unique=False)
    op.create_index(op.f('ix_governance_task_owner_unit_code'), 'governance_task', ['owner_unit_code'], unique=False)
    op.create_index(op.f('ix_governance_task_status'), 'governance_task', ['status'], unique=False)
    op.create_table('governance_inspection',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('new_appeals', sa.Integer(), nullable=True),
    sa.Column('appeal_nos', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('finding_present', sa.Boolean(), nullable=True),
    sa.Column('finding_note', sa.Text(), nullable=True),
    sa.Column('finding_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('finding_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['governance_task.id'], name=op.f('fk_governance_inspection_task_id_governance_task')),
    sa.PrimaryKeyConstraint('task_id', 'round', name=op.f('pk_governance_inspection'))
    )
    op.create_table('monthly_problem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['month'], ['monthly_theme.month'], name=op.f('fk_monthly_problem_month_monthly_theme')),
    sa.ForeignKeyConstraint(['task_id'], ['governance_task.id'], name=op.f('fk_monthly_problem_task_id_governance_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_problem')),
    sa.UniqueConstraint('month', 'position', name='uq_monthly_problem_position'),
    sa.UniqueConstraint('task_id', name=op.f('uq_monthly_problem_task_id'))
    )
    op.create_index(op.f('ix_monthly_problem_month'), 'monthly_problem', ['month'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_monthly_problem_month'), table_name='monthly_problem')
    op.drop_table('monthly_problem')
    op.drop_table('governance_inspection')
    op.drop_index(op.f('ix_governance_task_status'), table_name='governance_task')
    op.drop_index(op.f('ix_governance_task_owner_unit_code'), table_name='governance_task')
    op.drop_index(op.f('ix_governance_task_district_code'), table_name='governance_task')
    op.drop_index(op.f('ix_governance_task_category_code'), table_name='governance_task')
    op.drop_table('governance_task')
    op.drop_table('theme_candidate')
    op.drop_table('monthly_theme')
