"""What a PostgreSQL error means for whoever sent the statement: worth retrying, or not."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

#: Error classes the same statement meets again however often it is sent: data exceptions (22:
#: a value too long, invalid input) and integrity violations (23: a foreign key, not null,
#: unique, check). Everything else (connection failures, a server shutting down or refusing
#: connections, serialization conflicts) may pass, and is retried.
PERMANENT_CLASSES = ("22", "23")


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (asyncpg's, through SQLAlchemy), if it has one."""
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "sqlstate", None)
    return getattr(exc, "sqlstate", None)


def permanent(exc: BaseException) -> bool:
    """PostgreSQL refused this statement for what it says, not for the moment it was sent."""
    state = sqlstate(exc) or ""
    return state[:2] in PERMANENT_CLASSES


def reason(exc: BaseException, limit: int = 200) -> str:
    """PostgreSQL's own words for the error (its first line, without the driver's wrapping)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return text[:limit]
