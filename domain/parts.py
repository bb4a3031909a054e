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

from domain.core import Alarm, Draft, Refused
from domain.privacy import scrub
from domain.messages import (
    OPEN_PARTS,
    Actor,
    PartActionInput,
    PartInput,
    PartKind,
    PartStatus,
    PartView,
    part_round,
)
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


def _own_unit(part: PartView, actor: Actor) -> None:
    if actor.role is not Role.UNIT_STAFF:
        raise Refused("only the unit's staff may do this", "forbidden")
    if actor.unit != part.unit:
        raise Refused(f"this part belongs to {part.unit}, not {actor.unit}", "wrong_unit")


def _status(part: PartView, *allowed: PartStatus) -> None:
    if part.status not in allowed:
        names = ", ".join(s.value for s in allowed)
        raise Refused(f"the part is {part.status.value}; this needs it to be {names}")


#: The statuses in which each of a part's actions can be taken (those `check` requires): what a
#: unit's inbox offers it to do next.
ACTION_STATUSES = {
    "accept": (PartStatus.REQUESTED,),  # a whistle's report-in
    "phased_report": (PartStatus.ACCEPTED,),
    "report": (PartStatus.ACCEPTED,),
    "decline": (PartStatus.REQUESTED, PartStatus.ACCEPTED),
    "review_decline": (PartStatus.DECLINED,),  # the hotline's
}


def actions_open(status: PartStatus) -> list[str]:
    """The actions a part in this status can take, in the order they usually come."""
    return [action for action, statuses in ACTION_STATUSES.items() if status in statuses]


def check(part: PartView, action: str, cmd: PartActionInput, now: datetime) -> None:
    match action:
        case "accept":
            _status(part, PartStatus.REQUESTED)
            _own_unit(part, cmd.actor)
            if part.kind is PartKind.WHISTLE and not cmd.plan:
                raise Refused("reporting in means agreeing a part of the joint plan: give it", "invalid", "plan")
        case "phased_report":
            _status(part, PartStatus.ACCEPTED)
            _own_unit(part, cmd.actor)
            if now > part.due and not cmd.reason:
                raise Refused("the limit has passed: give the reason for the delay", "invalid", "reason")
        case "report":
            _status(part, PartStatus.ACCEPTED)
            _own_unit(part, cmd.actor)
            if now > part.due and not cmd.late_reason:
                raise Refused("the limit has passed: give the reason for the delay (late_reason)", "invalid", "late_reason")
        case "decline":
            _status(part, PartStatus.REQUESTED, PartStatus.ACCEPTED)
            _own_unit(part, cmd.actor)
        case "review_decline":
            _status(part, PartStatus.DECLINED)
            if cmd.actor.role is not Role.OPERATOR:
                raise Refused("only the hotline reviews a declined part", "forbidden")
        case "close":
            if part.status not in OPEN_PARTS:
                raise Refused(f"the part is already {part.status.value}")
        case _:
            raise Refused(f"unknown action {action}", "invalid")


def apply(part: PartView, action: str, cmd: PartActionInput, now: datetime) -> Draft:
    match action:
        case "accept":
            part.status, part.accepted_at, part.plan = PartStatus.ACCEPTED, now, cmd.plan
            kind = "part_reported_in" if part.kind is PartKind.WHISTLE else "part_accepted"
            in_time = part.report_in_due is None or now <= part.report_in_due
            return Draft(kind, cmd.actor, part.unit, {"plan": cmd.plan, "in_time": in_time})
        case "phased_report":
            return Draft("part_phased_report", cmd.actor, part.unit, {"progress": cmd.progress, "reason": cmd.reason})
        case "report":
            part.status, part.done_at, part.result = PartStatus.DONE, now, cmd.result
            detail = {"result": cmd.result, "in_time": now <= part.due, "late_reason": cmd.late_reason}
            return Draft("part_done", cmd.actor, part.unit, detail)
        case "decline":
            part.status, part.decline_reason = PartStatus.DECLINED, cmd.reason
            return Draft("part_declined", cmd.actor, part.unit, {"reason": cmd.reason})
        case "review_decline":
            if cmd.uphold:
                part.status, part.closed_reason = PartStatus.CLOSED, f"declined: {part.decline_reason}"
                return Draft("part_decline_upheld", cmd.actor, part.unit, {"comment": cmd.comment})
            part.status = PartStatus.ACCEPTED if part.accepted_at else PartStatus.REQUESTED
            return Draft("part_decline_rejected", cmd.actor, part.unit, {"comment": cmd.comment})
        case "close":
            part.status, part.closed_reason = PartStatus.CLOSED, cmd.reason
            return Draft("part_closed", cmd.actor, part.unit, {"reason": cmd.reason})
    raise Refused(f"unknown action {action}", "invalid")


def cancelled(part: PartView, reason: str | None) -> Draft:
    """An administrator cancelled the part's workflow (Temporal UI or CLI): it closes as a lead's
    close does, with who and why on the appeal's timeline."""
    part.status = PartStatus.CLOSED
    part.closed_reason = "cancelled by an administrator" + (f": {scrub(reason)}" if reason else "")
    return Draft("part_closed", None, part.unit, {"reason": part.closed_reason, "by": "an administrator (Temporal)"})


def next_alarm(part: PartView, fraction: float) -> Alarm | None:
    """The part's next reminder or expiry: reporting in (whistle), then the part's own limit."""
    if part.status not in OPEN_PARTS:
        return None
    alarms = []
    waiting_report_in = part.report_in_due is not None and part.accepted_at is None
    if waiting_report_in and not part.report_in_missed:
        if not part.report_in_reminded:
            lead = (part.report_in_due - part.requested_at) * fraction
            alarms.append(Alarm("report_in:reminder", part.requested_at + lead))
        alarms.append(Alarm("report_in:missed", part.report_in_due))
    if not part.missed:
        if not part.reminded:
            alarms.append(Alarm("part:reminder", part.requested_at + (part.due - part.requested_at) * fraction))
        alarms.append(Alarm("part:missed", part.due))
    return min(alarms, key=lambda a: a.at, default=None)


def fire(part: PartView, alarm: Alarm) -> list[Draft]:
    """A reminder, or a missed limit: the part is flagged overdue and escalated to supervision."""
    limit, what = alarm.name.split(":")
    due = part.report_in_due if limit == "report_in" else part.due
    if what == "reminder":
        if limit == "report_in":
            part.report_in_reminded = True
        else:
            part.reminded = True
        return [Draft("part_reminder", None, part.unit, {"limit": limit, "due": due.isoformat()})]
    if limit == "report_in":
        part.report_in_missed = True
    else:
        part.missed = True
    part.overdue = True
    return [
        Draft("part_limit_missed", None, part.unit, {"limit": limit, "due": due.isoformat()}),
        Draft("escalated", None, part.unit, {"to": "supervision", "limit": f"{part.kind.value} {limit}"}),
    ]
