"""Rule helpers shared by the appeal's own actions (`domain.appeal`) and its many-hands actions
(`domain.collaboration`): the refusals of a wrong state or unit, closing, the return visit."""

from __future__ import annotations

from datetime import datetime

from domain.core import Action, Draft, Refused
from domain.events import EventKind
from domain.messages import Actor, AppealStatus, AppealView, Limit, Outcome, Terms

S = AppealStatus

#: Where a unit is handling the order.
HANDLING = (S.ACCEPTED, S.CONTACTED, S.IN_PROGRESS, S.REHANDLING)


def require_status(view: AppealView, *allowed: AppealStatus) -> None:
    if view.status not in allowed:
        names = ", ".join(s.value for s in allowed)
        raise Refused(f"the appeal is {view.status.value}; this needs it to be {names}")


def require_handling_unit(view: AppealView, actor: Actor, action: Action) -> None:
    """The action's role, and the unit the appeal is with (first-receiver responsibility)."""
    action.require_role(actor)
    if actor.unit != view.handling_unit:
        raise Refused(
            f"the appeal is with {view.handling_unit}, not {actor.unit} (first-receiver responsibility)",
            "wrong_unit",
        )


def refresh_overdue(view: AppealView) -> None:
    """Overdue means a limit now running was missed: the one place `view.overdue` is set, after
    every change of the limits (new clocks, a new limit, a missed one)."""
    view.overdue = any(limit.missed for limit in view.limits.values())


def close(view: AppealView, now: datetime, outcome: Outcome) -> Draft:
    view.status, view.outcome, view.closed_at = S.CLOSED, outcome, now
    return Draft(EventKind.CLOSED, None, view.handling_unit, {"outcome": outcome.value})


def open_return_visit(view: AppealView, now: datetime, terms: Terms) -> None:
    view.limits["return_visit"] = Limit(started_at=now, due=terms.due(view.urgency, "return_visit_window", now))
