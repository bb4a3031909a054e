"""Many hands on one appeal: a co-handling unit's part (协办) and a summoned department's part
(街乡吹哨、部门报到), as pure rules. Each part runs as its own child workflow; the lead unit keeps
sole responsibility toward the citizen.

- co-handling: the unit accepts its part, files phased reports, reports done to the lead unit
  within its limit; late, it must give the reason. It may decline its part with a reason the
  hotline reviews; it can never object to the jurisdiction of the whole appeal.
- whistle: the department must report in (报到) within its report-in limit, agreeing its part of
  the joint plan, then reports done; not reporting in is escalated.
"""

from __future__ import annotations

from datetime import datetime

from domain.core import Action, Alarm, Draft, Refused, Route, reminder_at, table
from domain.events import EventKind
from domain.messages import (
    OPEN_PARTS,
    Actor,
    PartAcceptInput,
    PartActionInput,
    PartCloseInput,
    PartDeclineInput,
    PartDeclineReviewInput,
    PartInput,
    PartKind,
    PartPhasedReportInput,
    PartReportInput,
    PartStatus,
    PartView,
    part_round,
)
from domain.privacy import scrub
from domain.types import Role

# --- checks and applies (the part's own workflow) ------------------------------------------


def new_part(inp: PartInput, workflow_id: str) -> PartView:
    """The part as its workflow starts it; its round is the one its workflow id names, so every
    message it sends its appeal says which round it is about."""
    return PartView(
        kind=inp.kind,
        unit=inp.unit,
        workflow_id=workflow_id,
        round=part_round(workflow_id),
        task=inp.task,
        requested_at=inp.requested_at,
        due=inp.due,
        report_in_due=inp.report_in_due,
    )


def _own_unit(part: PartView, actor: Actor, action: Action) -> None:
    if actor.role not in action.roles:
        raise Refused("only the unit's staff may do this", "forbidden")
    if actor.unit != part.unit:
        raise Refused(f"this part belongs to {part.unit}, not {actor.unit}", "wrong_unit")


def _status(part: PartView, action: Action) -> None:
    if part.status not in action.statuses:
        names = ", ".join(s.value for s in action.statuses)
        raise Refused(f"the part is {part.status.value}; this needs it to be {names}")


def _check_accept(part: PartView, cmd: PartAcceptInput, now: datetime, action: Action) -> None:
    _status(part, action)
    _own_unit(part, cmd.actor, action)
    if part.kind is PartKind.WHISTLE and not cmd.plan:
        raise Refused("reporting in means agreeing a part of the joint plan: give it", "invalid", "plan")


def _accept(part: PartView, cmd: PartAcceptInput, now: datetime) -> Draft:
    part.status, part.accepted_at, part.plan = PartStatus.ACCEPTED, now, cmd.plan
    kind = EventKind.PART_REPORTED_IN if part.kind is PartKind.WHISTLE else EventKind.PART_ACCEPTED
    in_time = part.report_in_due is None or now <= part.report_in_due
    return Draft(kind, cmd.actor, part.unit, {"plan": cmd.plan, "in_time": in_time})


def _check_phased_report(part: PartView, cmd: PartPhasedReportInput, now: datetime, action: Action) -> None:
    _status(part, action)
    _own_unit(part, cmd.actor, action)
    if now > part.due and not cmd.reason:
        raise Refused("the limit has passed: give the reason for the delay", "invalid", "reason")


def _phased_report(part: PartView, cmd: PartPhasedReportInput, now: datetime) -> Draft:
    return Draft(EventKind.PART_PHASED_REPORT, cmd.actor, part.unit, {"progress": cmd.progress, "reason": cmd.reason})


def _check_report(part: PartView, cmd: PartReportInput, now: datetime, action: Action) -> None:
    _status(part, action)
    _own_unit(part, cmd.actor, action)
    if now > part.due and not cmd.late_reason:
        raise Refused("the limit has passed: give the reason for the delay (late_reason)", "invalid", "late_reason")


def _report(part: PartView, cmd: PartReportInput, now: datetime) -> Draft:
    part.status, part.done_at, part.result = PartStatus.DONE, now, cmd.result
    detail = {"result": cmd.result, "in_time": now <= part.due, "late_reason": cmd.late_reason}
    return Draft(EventKind.PART_DONE, cmd.actor, part.unit, detail)


def _check_decline(part: PartView, cmd: PartDeclineInput, now: datetime, action: Action) -> None:
    _status(part, action)
    _own_unit(part, cmd.actor, action)


def _decline(part: PartView, cmd: PartDeclineInput, now: datetime) -> Draft:
    part.status, part.decline_reason = PartStatus.DECLINED, cmd.reason
    return Draft(EventKind.PART_DECLINED, cmd.actor, part.unit, {"reason": cmd.reason})


def _check_review_decline(part: PartView, cmd: PartDeclineReviewInput, now: datetime, action: Action) -> None:
    _status(part, action)
    if cmd.actor.role not in action.roles:
        raise Refused("only the hotline reviews a declined part", "forbidden")


def _review_decline(part: PartView, cmd: PartDeclineReviewInput, now: datetime) -> Draft:
    if cmd.uphold:
        part.status, part.closed_reason = PartStatus.CLOSED, f"declined: {part.decline_reason}"
        return Draft(EventKind.PART_DECLINE_UPHELD, cmd.actor, part.unit, {"comment": cmd.comment})
    part.status = PartStatus.ACCEPTED if part.accepted_at else PartStatus.REQUESTED
    return Draft(EventKind.PART_DECLINE_REJECTED, cmd.actor, part.unit, {"comment": cmd.comment})


def _check_close(part: PartView, cmd: PartCloseInput, now: datetime, action: Action) -> None:
    if part.status not in OPEN_PARTS:
        raise Refused(f"the part is already {part.status.value}")


def _close(part: PartView, cmd: PartCloseInput, now: datetime) -> Draft:
    part.status, part.closed_reason = PartStatus.CLOSED, cmd.reason
    return Draft(EventKind.PART_CLOSED, cmd.actor, part.unit, {"reason": cmd.reason})


#: A part's actions, in the order they usually come. Their paths are under
#: /appeals/{no}/{co|whistle}/{unit}/. `close` is the lead's (through the appeal, a Signal): no
#: route of its own, and no role (the appeal checked who closes).
ACTIONS: dict[str, Action] = table(
    Action("accept", PartAcceptInput, _check_accept, _accept, (Role.UNIT_STAFF,),
           (Route("accept"), Route("report-in")), statuses=(PartStatus.REQUESTED,)),  # a whistle's report-in
    Action("phased_report", PartPhasedReportInput, _check_phased_report, _phased_report, (Role.UNIT_STAFF,),
           (Route("phased-report"),), statuses=(PartStatus.ACCEPTED,)),
    Action("report", PartReportInput, _check_report, _report, (Role.UNIT_STAFF,),
           (Route("report"),), statuses=(PartStatus.ACCEPTED,)),
    Action("decline", PartDeclineInput, _check_decline, _decline, (Role.UNIT_STAFF,),
           (Route("decline"),), statuses=(PartStatus.REQUESTED, PartStatus.ACCEPTED)),
    Action("review_decline", PartDeclineReviewInput, _check_review_decline, _review_decline, (Role.OPERATOR,),
           (Route("decline-review"),), statuses=(PartStatus.DECLINED,)),  # the hotline's
    Action("close", PartCloseInput, _check_close, _close, signal="close"),
)

#: The statuses in which each of a part's staff actions can be taken (those `check` requires):
#: what a unit's inbox offers it to do next.
ACTION_STATUSES = {a.name: a.statuses for a in ACTIONS.values() if a.routes}


def actions_open(status: PartStatus) -> list[str]:
    """The actions a part in this status can take, in the order they usually come."""
    return [action for action, statuses in ACTION_STATUSES.items() if status in statuses]


def check(part: PartView, action: str, cmd: PartActionInput, now: datetime) -> None:
    entry = ACTIONS.get(action)
    if entry is None:
        raise Refused(f"unknown action {action}", "invalid")
    entry.check(part, cmd, now, entry)


def apply(part: PartView, action: str, cmd: PartActionInput, now: datetime) -> Draft:
    entry = ACTIONS.get(action)
    if entry is None:
        raise Refused(f"unknown action {action}", "invalid")
    draft: Draft = entry.apply(part, cmd, now)
    return draft


def cancelled(part: PartView, reason: str | None) -> Draft:
    """An administrator cancelled the part's workflow (Temporal UI or CLI): it closes as a lead's
    close does, with who and why on the appeal's timeline."""
    part.status = PartStatus.CLOSED
    part.closed_reason = "cancelled by an administrator" + (f": {scrub(reason)}" if reason else "")
    return Draft(EventKind.PART_CLOSED, None, part.unit, {"reason": part.closed_reason, "by": "an administrator (Temporal)"})


def next_alarm(part: PartView, fraction: float, spread: bool = False) -> Alarm | None:
    """The part's next reminder or expiry: reporting in (whistle), then the part's own limit;
    with `spread`, each reminder put off by its own share of REMINDER_SPREAD (`reminder_at`)."""
    if part.status not in OPEN_PARTS:
        return None
    key = part.workflow_id if spread else None  # one offset per part: its reminders keep their order

    alarms = []
    report_in_due = part.report_in_due
    # waiting for a summoned unit to report in (whistle), and not yet missed
    if report_in_due is not None and part.accepted_at is None and not part.report_in_missed:
        if not part.report_in_reminded:
            at = reminder_at(part.requested_at, report_in_due, fraction, key)
            alarms.append(Alarm("report_in:reminder", at))
        alarms.append(Alarm("report_in:missed", report_in_due))
    if not part.missed:
        if not part.reminded:
            alarms.append(Alarm("part:reminder", reminder_at(part.requested_at, part.due, fraction, key)))
        alarms.append(Alarm("part:missed", part.due))
    return min(alarms, key=lambda a: a.at, default=None)


def fire(part: PartView, alarm: Alarm) -> list[Draft]:
    """A reminder, or a missed limit: the part is flagged overdue and escalated to supervision."""
    limit, what = alarm.name.split(":")
    due = part.report_in_due if limit == "report_in" else part.due
    assert due is not None, "a report-in alarm exists only while a report-in is due (next_alarm)"
    if what == "reminder":
        if limit == "report_in":
            part.report_in_reminded = True
        else:
            part.reminded = True
        return [Draft(EventKind.PART_REMINDER, None, part.unit, {"limit": limit, "due": due.isoformat()})]
    if limit == "report_in":
        part.report_in_missed = True
    else:
        part.missed = True
    part.overdue = True
    return [
        Draft(EventKind.PART_LIMIT_MISSED, None, part.unit, {"limit": limit, "due": due.isoformat()}),
        Draft(EventKind.ESCALATED, None, part.unit, {"to": "supervision", "limit": f"{part.kind.value} {limit}"}),
    ]
