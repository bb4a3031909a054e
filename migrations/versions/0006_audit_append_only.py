"""The personal-data audit is append-only: updates and deletes are refused by the database

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION personal_data_access_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the personal-data audit is append-only';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER personal_data_access_append_only BEFORE UPDATE OR DELETE ON personal_data_access "
        "FOR EACH ROW EXECUTE FUNCTION personal_data_access_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER personal_data_access_append_only ON personal_data_access")
    op.execute("DROP FUNCTION personal_data_access_append_only()")
