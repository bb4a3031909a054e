"""What every workflow of jiesu shares: how a refused action travels back to its sender, how
database activities are retried, how to tell a projection PostgreSQL refused, and how to sleep
until the next alarm."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    import workflows.search_attributes as attrs
    from domain.core import Alarm, Refused

#: Database activities: retried until PostgreSQL answers (it may be restarting); an error that
#: retrying cannot fix is raised non-retryable by the activity itself.
DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


def signal_twin(action: str, refused: str = "recorded on the timeline as rejected") -> str:
    """The description the Temporal UI shows beside an action's Signal twin (its Update has its
    own): the same action and checks, for a sender that does not wait for the answer."""
    return (
        f"{action}, not waiting for the answer: as the Update of the same name (without _signal), "
        f"through the same checks; a refusal is {refused}"
    )


def refusal(e: Refused) -> ApplicationError:
    """How a refused action travels back to the API (mapped there to 409 / 403 / 422), with
    the input field at fault when the rules named one."""
    details = {"code": e.code} if e.field is None else {"code": e.code, "field": e.field}
    return ApplicationError(e.reason, details, type="Refused", non_retryable=True)


def activity_failure(e: FailureError, error_type: str) -> ApplicationError | None:
    """The activity's own `ApplicationError` of this type, if that is why it failed. A local
    activity's failure arrives as that error itself, a regular activity's as the cause of an
    `ActivityError`: both are looked at."""
    for error in (e, e.cause):
        if isinstance(error, ApplicationError) and error.type == error_type:
            return error
    return None


def projection_refused(e: FailureError) -> ApplicationError | None:
    """The error, if a projection activity failed because PostgreSQL refused the record (a data
    or integrity error: retrying cannot help, and the activity did not retry)."""
    return activity_failure(e, "ProjectionRefused")


async def sleep_until_alarm(alarm: "Alarm | None", woken: Callable[[], bool], summary: Callable[["Alarm"], str]) -> bool:
    """Wait for `alarm` (a timer, shown with `summary(alarm)` in Temporal's UI) unless `woken()`
    comes true first (someone acted: the next alarm may have changed). True when the alarm is
    due and must fire, False when woken first. With no alarm, wait until woken. (The timer and
    the waits are commands in the workflow's history: their order and summaries are part of
    every recorded run.)"""
    if alarm is None:
        await workflow.wait_condition(woken)
        return False
    remaining = (alarm.at - workflow.now()).total_seconds()
    if remaining > 0:
        try:
            await workflow.wait_condition(woken, timeout=timedelta(seconds=remaining), timeout_summary=summary(alarm))
            return False
        except TimeoutError:
            pass
    return True


def upsert_changed(
    known: dict[str, object], wanted: dict[SearchAttributeKey[Any], Any], projection_failed: bool
) -> None:
    """Upsert the search attributes whose value changed since `known` (what this run has set);
    `ProjectionFailed` only once a projection has been refused (the upserts of earlier histories
    stay as they were), unset again when one succeeds."""
    if projection_failed or attrs.PROJECTION_FAILED.name in known:
        wanted = {**wanted, attrs.PROJECTION_FAILED: True if projection_failed else None}
    updates: list[SearchAttributeUpdate[Any]] = []
    for key, value in wanted.items():
        if known.get(key.name, ...) == value:
            continue
        known[key.name] = value
        updates.append(key.value_unset() if value is None else key.value_set(value))
    if updates:
        workflow.upsert_search_attributes(updates)
