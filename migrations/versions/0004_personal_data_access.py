"""Audit of views of unmasked personal data

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('personal_data_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('unit_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['appeal_no'], ['appeal.appeal_no'], name=op.f('fk_personal_data_access_appeal_no_appeal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_access'))
    )
    op.create_index(op.f('ix_personal_data_access_appeal_no'), 'personal_data_access', ['appeal_no'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_personal_data_access_appeal_no'), table_name='personal_data_access')
    op.drop_table('personal_data_access')
