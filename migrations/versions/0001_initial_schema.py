"""Initial schema: directory, dispatch catalogue, time-limit policies, calendar, appeals, users

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Enum types are created and dropped explicitly: several tables share them.
DAY_KIND = postgresql.ENUM('holiday', 'workday', name='day_kind', create_type=False)
URGENCY = postgresql.ENUM('emergency', 'utility', 'ordinary', 'complex', name='urgency', create_type=False)
APPEAL_TYPE = postgresql.ENUM('consultation', 'help', 'complaint', 'report', 'suggestion', name='appeal_type', create_type=False)
LIMIT_UNIT = postgresql.ENUM('hours', 'days', 'working_days', name='limit_unit', create_type=False)
UNIT_KIND = postgresql.ENUM('district_government', 'municipal_department', 'district_department', 'street', 'township', 'public_affairs_org', 'public_service_enterprise', name='unit_kind', create_type=False)
USER_ROLE = postgresql.ENUM('operator', 'unit_staff', 'supervisor', 'analyst', 'administrator', name='user_role', create_type=False)
ENUMS = (DAY_KIND, URGENCY, APPEAL_TYPE, LIMIT_UNIT, UNIT_KIND, USER_ROLE)


def upgrade() -> None:
    bind = op.get_bind()
    for enum in ENUMS:
        enum.create(bind)
    op.create_table('calendar_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', DAY_KIND, nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_day'))
    )
    op.create_table('category',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('parent_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('name_zh', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('theme', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('pain_point', sa.Boolean(), nullable=False),
    sa.Column('default_urgency', URGENCY, server_default='ordinary', nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['category.code'], name=op.f('fk_category_parent_code_category')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_category'))
    )
    op.create_index(op.f('ix_category_parent_code'), 'category', ['parent_code'], unique=False)
    op.create_table('district',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('name_zh', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_district'))
    )
    op.create_table('time_limit_policy',
    sa.Column('urgency', URGENCY, nullable=False),
    sa.Column('appeal_type', APPEAL_TYPE, nullable=False),
    sa.Column('contact_limit', sa.Integer(), nullable=False),
    sa.Column('contact_limit_unit', LIMIT_UNIT, nullable=False),
    sa.Column('completion_limit', sa.Integer(), nullable=False),
    sa.Column('completion_limit_unit', LIMIT_UNIT, nullable=False),
    sa.Column('objection_window', sa.Integer(), nullable=False),
    sa.Column('objection_window_unit', LIMIT_UNIT, nullable=False),
    sa.Column('return_visit_window', sa.Integer(), nullable=False),
    sa.Column('return_visit_window_unit', LIMIT_UNIT, nullable=False),
    sa.PrimaryKeyConstraint('urgency', 'appeal_type', name=op.f('pk_time_limit_policy'))
    )
    op.create_table('unit',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name_zh', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', UNIT_KIND, nullable=False),
    sa.Column('parent_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('district_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_unit_district_code_district')),
    sa.ForeignKeyConstraint(['parent_code'], ['unit.code'], name=op.f('fk_unit_parent_code_unit')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_unit'))
    )
    op.create_index(op.f('ix_unit_district_code'), 'unit', ['district_code'], unique=False)
    op.create_index(op.f('ix_unit_parent_code'), 'unit', ['parent_code'], unique=False)
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('role', USER_ROLE, nullable=False),
    sa.Column('unit_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('district_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role <> 'unit_staff' OR unit_code IS NOT NULL", name=op.f('ck_app_user_unit_staff_has_unit')),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_app_user_district_code_district')),
    sa.ForeignKeyConstraint(['unit_code'], ['unit.code'], name=op.f('fk_app_user_unit_code_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('appeal',
    sa.Column('appeal_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('workflow_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('appeal_type', APPEAL_TYPE, nullable=False),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('urgency', URGENCY, nullable=False),
    sa.Column('district_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('street_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('location_address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('attachments', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('handling_unit_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('contact_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completion_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('supervised', sa.Boolean(), nullable=False),
    sa.Column('rehandle_count', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('satisfaction', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('state', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['category_code'], ['category.code'], name=op.f('fk_appeal_category_code_category')),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_appeal_district_code_district')),
    sa.ForeignKeyConstraint(['handling_unit_code'], ['unit.code'], name=op.f('fk_appeal_handling_unit_code_unit')),
    sa.ForeignKeyConstraint(['street_code'], ['unit.code'], name=op.f('fk_appeal_street_code_unit')),
    sa.PrimaryKeyConstraint('appeal_no', name=op.f('pk_appeal')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_appeal_idempotency_key')),
    sa.UniqueConstraint('workflow_id', name=op.f('uq_appeal_workflow_id'))
    )
    op.create_index(op.f('ix_appeal_category_code'), 'appeal', ['category_code'], unique=False)
    op.create_index(op.f('ix_appeal_district_code'), 'appeal', ['district_code'], unique=False)
    op.create_index(op.f('ix_appeal_handling_unit_code'), 'appeal', ['handling_unit_code'], unique=False)
    op.create_index(op.f('ix_appeal_overdue'), 'appeal', ['overdue'], unique=False)
    op.create_index(op.f('ix_appeal_status'), 'appeal', ['status'], unique=False)
    op.create_index(op.f('ix_appeal_street_code'), 'appeal', ['street_code'], unique=False)
    op.create_index(op.f('ix_appeal_received_at'), 'appeal', ['received_at'], unique=False)
    op.create_table('routing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('district_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('street_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('unit_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('to_local_street', sa.Boolean(), nullable=False),
    sa.CheckConstraint('unit_code IS NOT NULL OR to_local_street', name=op.f('ck_routing_rule_has_target')),
    sa.ForeignKeyConstraint(['category_code'], ['category.code'], name=op.f('fk_routing_rule_category_code_category')),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_routing_rule_district_code_district')),
    sa.ForeignKeyConstraint(['street_code'], ['unit.code'], name=op.f('fk_routing_rule_street_code_unit')),
    sa.ForeignKeyConstraint(['unit_code'], ['unit.code'], name=op.f('fk_routing_rule_unit_code_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rule')),
    sa.UniqueConstraint('category_code', 'district_code', 'street_code', name='uq_routing_rule_area', postgresql_nulls_not_distinct=True)
    )
    op.create_index(op.f('ix_routing_rule_category_code'), 'routing_rule', ['category_code'], unique=False)
    op.create_table('appeal_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idem_key', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('appeal_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('actor_role', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('unit_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['appeal_no'], ['appeal.appeal_no'], name=op.f('fk_appeal_event_appeal_no_appeal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_event')),
    sa.UniqueConstraint('appeal_no', 'seq', name='uq_appeal_event_seq'),
    sa.UniqueConstraint('idem_key', name=op.f('uq_appeal_event_idem_key'))
    )
    op.create_index(op.f('ix_appeal_event_appeal_no'), 'appeal_event', ['appeal_no'], unique=False)
    op.create_table('citizen_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['appeal_no'], ['appeal.appeal_no'], name=op.f('fk_citizen_contact_appeal_no_appeal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_citizen_contact')),
    sa.UniqueConstraint('appeal_no', name=op.f('uq_citizen_contact_appeal_no'))
    )


def downgrade() -> None:
    op.drop_table('citizen_contact')
    op.drop_index(op.f('ix_appeal_event_appeal_no'), table_name='appeal_event')
    op.drop_table('appeal_event')
    op.drop_index(op.f('ix_routing_rule_category_code'), table_name='routing_rule')
    op.drop_table('routing_rule')
    op.drop_index(op.f('ix_appeal_received_at'), table_name='appeal')
    op.drop_index(op.f('ix_appeal_street_code'), table_name='appeal')
    op.drop_index(op.f('ix_appeal_status'), table_name='appeal')
    op.drop_index(op.f('ix_appeal_overdue'), table_name='appeal')
    op.drop_index(op.f('ix_appeal_handling_unit_code'), table_name='appeal')
    op.drop_index(op.f('ix_appeal_district_code'), table_name='appeal')
    op.drop_index(op.f('ix_appeal_category_code'), table_name='appeal')
    op.drop_table('appeal')
    op.drop_table('app_user')
    op.drop_index(op.f('ix_unit_parent_code'), table_name='unit')
    op.drop_index(op.f('ix_unit_district_code'), table_name='unit')
    op.drop_table('unit')
    op.drop_table('time_limit_policy')
    op.drop_table('district')
    op.drop_index(op.f('ix_category_parent_code'), table_name='category')
    op.drop_table('category')
    op.drop_table('calendar_day')
    bind = op.get_bind()
    for enum in ENUMS:
        enum.drop(bind)
