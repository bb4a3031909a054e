"""Many hands: co-handling and whistle parts, the notification outbox, appeal links, transfer origin, supervision level

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notification_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idem_key', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('appeal_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_outbox')),
    sa.UniqueConstraint('idem_key', name=op.f('uq_notification_outbox_idem_key'))
    )
    op.create_index(op.f('ix_notification_outbox_appeal_no'), 'notification_outbox', ['appeal_no'], unique=False)
    op.create_index('ix_notification_outbox_pending', 'notification_outbox', ['next_attempt_at'], unique=False, postgresql_where=sa.text('delivered_at IS NULL'))
    op.create_table('appeal_part',
    sa.Column('appeal_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('unit_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('workflow_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('task', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('closed_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['appeal_no'], ['appeal.appeal_no'], name=op.f('fk_appeal_part_appeal_no_appeal')),
    sa.ForeignKeyConstraint(['unit_code'], ['unit.code'], name=op.f('fk_appeal_part_unit_code_unit')),
    sa.PrimaryKeyConstraint('appeal_no', 'unit_code', 'kind', name=op.f('pk_appeal_part'))
    )
    op.create_index(op.f('ix_appeal_part_status'), 'appeal_part', ['status'], unique=False)
    op.add_column('appeal', sa.Column('supervision_level', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.add_column('appeal', sa.Column('master_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    op.add_column('appeal', sa.Column('link_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.add_column('appeal', sa.Column('origin_hotline', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    op.add_column('appeal', sa.Column('origin_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_index(op.f('ix_appeal_master_no'), 'appeal', ['master_no'], unique=False)
    op.create_foreign_key(op.f('fk_appeal_master_no_appeal'), 'appeal', 'appeal', ['master_no'], ['appeal_no'])


def downgrade() -> None:
    op.drop_constraint(op.f('fk_appeal_master_no_appeal'), 'appeal', type_='foreignkey')
    op.drop_index(op.f('ix_appeal_master_no'), table_name='appeal')
    op.drop_column('appeal', 'origin_no')
    op.drop_column('appeal', 'origin_hotline')
    op.drop_column('appeal', 'link_kind')
    op.drop_column('appeal', 'master_no')
    op.drop_column('appeal', 'supervision_level')
    op.drop_index(op.f('ix_appeal_part_status'), table_name='appeal_part')
    op.drop_table('appeal_part')
    op.drop_index('ix_notification_outbox_pending', table_name='notification_outbox', postgresql_where=sa.text('delivered_at IS NULL'))
    op.drop_index(op.f('ix_notification_outbox_appeal_no'), table_name='notification_outbox')
    op.drop_table('notification_outbox')
