"""Personal data sealed at rest: contact columns become text (ciphertext is longer)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column('citizen_contact', 'name',
               existing_type=sa.VARCHAR(length=100),
               type_=sa.Text(),
               existing_nullable=True)
    op.alter_column('citizen_contact', 'phone',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.Text(),
               existing_nullable=True)
    op.alter_column('citizen_contact', 'id_number',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.Text(),
               existing_nullable=True)
    op.alter_column('citizen_contact', 'address',
               existing_type=sa.VARCHAR(length=300),
               type_=sa.Text(),
               existing_nullable=True)


def downgrade() -> None:
    # Sealed values are longer than the old limits, and only the application can open them:
    # go back to unbounded VARCHAR so no stored contact is cut or lost.
    for column in ("name", "phone", "id_number", "address"):
        op.alter_column("citizen_contact", column, existing_type=sa.Text(), type_=sa.String(), existing_nullable=True)
