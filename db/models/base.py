"""What every table module shares: the metadata's naming convention (set here, so before any
table is defined: every table module imports this one) and the column helpers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

# Constraint names are derived, so migrations are deterministic and reversible.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def enum_column_type(enum_cls: type, name: str) -> sa.Enum:
    """A PostgreSQL enum storing the StrEnum's values (not its member names)."""
    return sa.Enum(enum_cls, name=name, values_callable=lambda e: [m.value for m in e])


def now_column() -> Any:
    return sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
