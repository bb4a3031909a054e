"""How a projection activity reports PostgreSQL's refusal: retried when it may pass, not when
the same statement would fail on every attempt (the workflow records that and runs on)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db import errors as db_errors


def refused(e: DBAPIError, what: str) -> Exception:
    """A permanent database error (data, integrity) as a non-retryable `ProjectionRefused`, with
    an ERROR log naming `what` (the appeal, the task); anything else as it is, to be retried
    (connections, shutdowns, too many connections)."""
    if not db_errors.permanent(e):
        return e
    state, why = db_errors.sqlstate(e), db_errors.reason(e)
    activity.logger.error("PostgreSQL refused the projection of %s (SQLSTATE %s): %s", what, state, why)
    return ApplicationError(
        f"PostgreSQL refused the record (SQLSTATE {state}): {why}",
        {"sqlstate": state, "reason": why},
        type="ProjectionRefused",
        non_retryable=True,
    )
