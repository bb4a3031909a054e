"""The life of a work order as pure rules: which action is allowed when, what it changes, and
what happens when a time limit runs out. The workflow calls these; nothing re-implements them.

Every function takes the current time explicitly (the workflow passes `workflow.now()`), so the
rules are deterministic and testable without Temporal.
"""

from __future__ import annotations

from datetime import datetime

from domain.calendar import CHINA_TZ
from domain.core import Action, Alarm, Draft, Refused, Route, reminder_at, table
from domain.events import EventKind
from domain.messages import (
    RIGHT_CHANNEL,
    ActionInput,
    Actor,
    AppealAcceptInput,
    AppealAnswerInput,
    AppealCompleteInput,
    AppealDispatchInput,
    AppealEvaluateInput,
    AppealInput,
    AppealStatus,
    AppealView,
    ContactRecordInput,
    ExtensionRequestInput,
    ExtensionReviewInput,
    IntakeDecision,
    Limit,
    Objection,
    ObjectionRaiseInput,
    ObjectionReviewInput,
    Outcome,
    PhasedReportInput,
    Terms,
)
from domain.rules import (
    HANDLING,
    close,
    open_return_visit,
    refresh_overdue,
    require_handling_unit,
    require_status,
)
from domain.types import Role, Urgency

S = AppealStatus


# --- intake --------------------------------------------------------------------------------


def open_appeal(inp: AppealInput, now: datetime, terms: Terms) -> tuple[AppealView, list[Draft]]:
    """The order as recorded, and what the intake decision does to it at once."""
    view = AppealView(
        appeal_no=inp.appeal_no,
        appeal_type=inp.appeal_type,
        category=inp.category,
        urgency=inp.urgency,
        channel=inp.channel,
        district=inp.district,
        street=inp.street,
        received_at=inp.received_at,
    )
    drafts = [Draft(EventKind.RECEIVED, inp.operator, detail={"channel": inp.channel.value, "decision": inp.decision.value})]
    match inp.decision:
        case IntakeDecision.ANSWER:
            drafts += _answer(view, AppealAnswerInput(actor=inp.operator, answer=inp.answer or ""), now, terms)
        case IntakeDecision.NOT_ACCEPTED:
            reason = inp.not_accepted_reason
            assert reason is not None, "validate_intake requires it"
            view.status, view.outcome, view.closed_at = S.CLOSED, Outcome.NOT_ACCEPTED, now
            drafts.append(
                Draft(EventKind.NOT_ACCEPTED, inp.operator, detail={"reason": reason.value, "channel": RIGHT_CHANNEL[reason]})
            )
        case IntakeDecision.EMERGENCY:
            assert inp.emergency_service is not None, "validate_intake requires it"
            view.status, view.outcome, view.closed_at = S.CLOSED, Outcome.EMERGENCY_TRANSFERRED, now
            drafts.append(Draft(EventKind.TRANSFERRED_TO_EMERGENCY, inp.operator, detail={"service": inp.emergency_service.value}))
    return view, drafts


def validate_intake(inp: AppealInput) -> None:
    """What an intake must say for its decision (the API answers 422 before starting anything)."""
    if inp.decision is IntakeDecision.ANSWER and not inp.answer:
        raise Refused("an immediate answer needs the answer given", "invalid", "answer")
    if inp.decision is IntakeDecision.NOT_ACCEPTED and inp.not_accepted_reason is None:
        raise Refused("a refused appeal needs the reason it is not accepted", "invalid", "not_accepted_reason")
    if inp.decision is IntakeDecision.EMERGENCY and inp.emergency_service is None:
        raise Refused("an emergency needs the service it is transferred to (110/119/120/122)", "invalid", "emergency_service")
    if inp.decision is IntakeDecision.DISPATCH and inp.unit is None and inp.district is None:
        raise Refused("dispatch by the catalogue needs at least the district", "invalid", "district")


# --- checks (validators) -------------------------------------------------------------------


def _check_dispatch(view: AppealView, cmd: AppealDispatchInput, now: datetime, action: Action) -> None:
    action.require_role(cmd.actor)
    require_status(view, S.RECEIVED)
    if cmd.unit is None and view.district is None:
        raise Refused("no district recorded: name the unit to dispatch to", "invalid", "unit")


def _check_answer(view: AppealView, cmd: AppealAnswerInput, now: datetime, action: Action) -> None:
    action.require_role(cmd.actor)
    require_status(view, S.RECEIVED)


def _check_accept(view: AppealView, cmd: AppealAcceptInput, now: datetime, action: Action) -> None:
    require_status(view, S.DISPATCHED)
    require_handling_unit(view, cmd.actor, action)


def _check_objection(view: AppealView, cmd: ObjectionRaiseInput, now: datetime, action: Action) -> None:
    require_status(view, *OBJECTING)
    require_handling_unit(view, cmd.actor, action)
    if view.objection is not None and view.objection.unit == view.handling_unit:
        raise Refused("this unit's objection was already reviewed; the order stays with it")
    window = view.limits["objection"]
    if now > window.due:
        raise Refused(
            f"the objection window closed at {window.due.astimezone(CHINA_TZ).isoformat()}; the unit must handle the order",
            "window_passed",
        )
    if cmd.suggested_unit == view.handling_unit:
        raise Refused("the suggested unit is the unit objecting", "invalid", "suggested_unit")


def _check_objection_review(view: AppealView, cmd: ObjectionReviewInput, now: datetime, action: Action) -> None:
    action.require_role(cmd.actor)
    require_status(view, S.OBJECTION_RAISED)
    if cmd.uphold and (cmd.new_unit or _raised_objection(view).suggested_unit) == view.handling_unit:
        raise Refused("re-dispatch must go to another unit", "invalid", "new_unit")


def _raised_objection(view: AppealView) -> Objection:
    """The objection an order in OBJECTION_RAISED holds (raising it sets both)."""
    assert view.objection is not None, "an order under objection review holds its objection"
    return view.objection


def _check_contact(view: AppealView, cmd: ContactRecordInput, now: datetime, action: Action) -> None:
    # also while its objection is reviewed: the contact limit keeps running for the citizen
    require_status(view, S.ACCEPTED, S.IN_PROGRESS, S.REHANDLING, S.OBJECTION_RAISED)
    require_handling_unit(view, cmd.actor, action)
    if view.contacted_at is not None:
        raise Refused("contact is already recorded for this round")


def _check_phased_report(view: AppealView, cmd: PhasedReportInput, now: datetime, action: Action) -> None:
    require_status(view, *HANDLING)
    require_handling_unit(view, cmd.actor, action)
    if cmd.expected_date is not None and cmd.expected_date < now.astimezone(CHINA_TZ).date():
        raise Refused("the expected date is in the past", "invalid", "expected_date")
    if _past_completion(view, now) and not cmd.reason:
        raise Refused("the limit has passed: give the reason for the delay", "invalid", "reason")


def _past_completion(view: AppealView, now: datetime) -> bool:
    completion = view.limits.get("completion")
    return completion is not None and now > completion.due


def _check_extension(view: AppealView, cmd: ExtensionRequestInput, now: datetime, action: Action) -> None:
    require_status(view, S.ACCEPTED, S.CONTACTED, S.IN_PROGRESS)
    require_handling_unit(view, cmd.actor, action)
    if view.urgency is not Urgency.ORDINARY:
        raise Refused(f"only ordinary appeals can be extended; this one is {view.urgency.value}")
    if view.extension in ("requested", "approved", "rejected"):
        raise Refused(f"an extension was already {view.extension}")


#: The statuses in which an extension request is reviewed: not once the order is reported done
#: (an operator's queue of requests to review lists these, `GET /appeals?extension=requested`).
EXTENSION_REVIEW = (S.ACCEPTED, S.CONTACTED, S.IN_PROGRESS)


def _check_extension_review(view: AppealView, cmd: ExtensionReviewInput, now: datetime, action: Action) -> None:
    action.require_role(cmd.actor)
    require_status(view, *EXTENSION_REVIEW)
    if view.extension != "requested":
        raise Refused("no extension request is waiting for review")


def _check_complete(view: AppealView, cmd: AppealCompleteInput, now: datetime, action: Action) -> None:
    require_status(view, S.CONTACTED, S.IN_PROGRESS)
    require_handling_unit(view, cmd.actor, action)
    if view.contacted_at is None:
        raise Refused("record the contact with the citizen before reporting the result")
    if _past_completion(view, now) and not cmd.late_reason:
        raise Refused("the limit has passed: give the reason for the delay (late_reason)", "invalid", "late_reason")
    waiting = sorted(p.unit for p in view.parts.values() if p.open)
    if waiting:
        raise Refused(
            f"parts are still open ({', '.join(waiting)}): wait for them or close them with a reason"
        )


def _check_evaluate(view: AppealView, cmd: AppealEvaluateInput, now: datetime, action: Action) -> None:
    if cmd.actor.role is not None:
        action.require_role(cmd.actor)
    require_status(view, S.AWAITING_EVALUATION, S.ANSWERED)


# --- applies -------------------------------------------------------------------------------


def start_clock(view: AppealView, unit: str, now: datetime, terms: Terms) -> None:
    """Dispatch (or re-dispatch) to `unit`: every limit runs from now."""
    view.handling_unit = unit
    view.units.append(unit)
    view.dispatched_at = now
    view.status = S.DISPATCHED
    view.contacted_at = None
    view.extension = None
    view.limits = {
        name: Limit(started_at=now, due=terms.due(view.urgency, policy_limit, now))
        for name, policy_limit in (
            ("objection", "objection_window"),
            ("contact", "contact_limit"),
            ("completion", "completion_limit"),
        )
    }
    refresh_overdue(view)  # fresh clocks for this unit; `supervised` stays: the escalation happened


#: who chose the unit, as a `dispatched` event says it: an auditor of a wrong dispatch tells a
#: catalogue rule from an operator's choice
NAMED_BY_OPERATOR = "named by the operator"
BY_CATALOGUE = "by the dispatch catalogue"


def _dispatch(view: AppealView, cmd: AppealDispatchInput, now: datetime, terms: Terms) -> list[Draft]:
    # the workflow resolves a catalogue dispatch to a unit before calling this, and says so
    assert cmd.unit is not None, "the workflow resolves the unit first"
    start_clock(view, cmd.unit, now, terms)
    if cmd.unit_from_catalogue is None:
        how = "operator"  # older runs did not tell who chose
    else:
        how = BY_CATALOGUE if cmd.unit_from_catalogue else NAMED_BY_OPERATOR
    return [dispatched_draft(view, cmd.actor, how)]


def intake_dispatched_draft(view: AppealView, inp: AppealInput) -> Draft:
    """The intake's dispatch: to the unit the operator named, or the catalogue chose (at intake,
    or in the workflow when the intake could not)."""
    how = NAMED_BY_OPERATOR if inp.unit and not inp.unit_from_catalogue else BY_CATALOGUE
    return dispatched_draft(view, inp.operator, how)


def dispatched_draft(view: AppealView, actor: Actor | None, how: str) -> Draft:
    return Draft(
        EventKind.DISPATCHED,
        actor,
        view.handling_unit,
        {
            "how": how,
            "objection_due": view.limits["objection"].due.isoformat(),
            "contact_due": view.limits["contact"].due.isoformat(),
            "completion_due": view.limits["completion"].due.isoformat(),
        },
    )


def _answer(view: AppealView, cmd: AppealAnswerInput, now: datetime, terms: Terms) -> list[Draft]:
    view.status = S.ANSWERED
    view.completed_at = now
    open_return_visit(view, now, terms)
    return [Draft(EventKind.ANSWERED, cmd.actor, detail={"answer": cmd.answer})]


def _accept(view: AppealView, cmd: AppealAcceptInput, now: datetime, terms: Terms) -> list[Draft]:
    view.status = S.ACCEPTED
    return [Draft(EventKind.ACCEPTED, cmd.actor, view.handling_unit)]


def _objection(view: AppealView, cmd: ObjectionRaiseInput, now: datetime, terms: Terms) -> list[Draft]:
    assert view.handling_unit is not None, "only the handling unit objects (checked)"
    view.objection = Objection(
        unit=view.handling_unit, reason=cmd.reason, suggested_unit=cmd.suggested_unit, raised_at=now
    )
    view.status = S.OBJECTION_RAISED
    return [
        Draft(
            EventKind.OBJECTION_RAISED,
            cmd.actor,
            view.handling_unit,
            {"reason": cmd.reason, "suggested_unit": cmd.suggested_unit},
        )
    ]


def _objection_review(view: AppealView, cmd: ObjectionReviewInput, now: datetime, terms: Terms) -> list[Draft]:
    objection = _raised_objection(view)
    objection.upheld = cmd.uphold
    old = view.handling_unit
    if not cmd.uphold:
        view.status = S.ACCEPTED
        return [Draft(EventKind.OBJECTION_REJECTED, cmd.actor, old, {"comment": cmd.comment, "stays_with": old})]
    new = cmd.new_unit or objection.suggested_unit
    start_clock(view, new, now, terms)
    return [
        Draft(EventKind.OBJECTION_UPHELD, cmd.actor, old, {"comment": cmd.comment, "new_unit": new}),
        dispatched_draft(view, cmd.actor, "re-dispatch after upheld objection"),
    ]


def _contact(view: AppealView, cmd: ContactRecordInput, now: datetime, terms: Terms) -> list[Draft]:
    view.contacted_at = now
    limit = view.limits["contact"]
    limit.met_at = now
    view.status = S.CONTACTED if view.status in (S.ACCEPTED, S.REHANDLING) else view.status
    return [Draft(EventKind.CONTACTED, cmd.actor, view.handling_unit, {"note": cmd.note, "in_time": limit.met_in_time})]


def _phased_report(view: AppealView, cmd: PhasedReportInput, now: datetime, terms: Terms) -> list[Draft]:
    view.status = S.IN_PROGRESS if view.status is not S.REHANDLING else view.status
    detail = {
        "progress": cmd.progress,
        "reason": cmd.reason,
        "expected_date": cmd.expected_date.isoformat() if cmd.expected_date else None,
    }
    return [Draft(EventKind.PHASED_REPORT, cmd.actor, view.handling_unit, detail)]


def _extension(view: AppealView, cmd: ExtensionRequestInput, now: datetime, terms: Terms) -> list[Draft]:
    view.extension = "requested"
    return [Draft(EventKind.EXTENSION_REQUESTED, cmd.actor, view.handling_unit, {"reason": cmd.reason})]


def _extension_review(view: AppealView, cmd: ExtensionReviewInput, now: datetime, terms: Terms) -> list[Draft]:
    if not cmd.approve:
        view.extension = "rejected"
        return [Draft(EventKind.EXTENSION_REJECTED, cmd.actor, view.handling_unit, {"comment": cmd.comment})]
    view.extension = "approved"
    view.urgency = Urgency.COMPLEX
    completion = view.limits["completion"]
    completion.due = terms.due(Urgency.COMPLEX, "completion_limit", completion.started_at)
    if completion.missed and now <= completion.due:
        completion.missed = False  # the new limit has not passed: no longer late on this one
    completion.reminded = False
    refresh_overdue(view)
    return [
        Draft(
            EventKind.EXTENSION_APPROVED,
            cmd.actor,
            view.handling_unit,
            {"comment": cmd.comment, "completion_due": completion.due.isoformat()},
        )
    ]


def _complete(view: AppealView, cmd: AppealCompleteInput, now: datetime, terms: Terms) -> list[Draft]:
    view.completed_at = now
    completion = view.limits["completion"]
    completion.met_at = now
    view.status = S.AWAITING_EVALUATION
    open_return_visit(view, now, terms)
    return [
        Draft(
            EventKind.REPORTED_DONE,
            cmd.actor,
            view.handling_unit,
            {"result": cmd.result, "in_time": completion.met_in_time, "late_reason": cmd.late_reason},
        )
    ]


def _evaluate(view: AppealView, cmd: AppealEvaluateInput, now: datetime, terms: Terms) -> list[Draft]:
    view.limits["return_visit"].met_at = now
    view.resolved, view.satisfaction = cmd.resolved, cmd.satisfaction
    view.citizen_contacted = cmd.contacted
    drafts = [
        Draft(
            EventKind.EVALUATED,
            cmd.actor,
            view.handling_unit,
            {
                "resolved": cmd.resolved,
                "satisfaction": cmd.satisfaction.value,
                "comment": cmd.comment,
                "contacted": cmd.contacted.value,
            },
        )
    ]
    can_rehandle = view.handling_unit is not None and view.rehandle_count < terms.max_rehandles
    if cmd.resolved or not can_rehandle:
        drafts.append(close(view, now, Outcome.RESOLVED if cmd.resolved else Outcome.UNRESOLVED))
        return drafts
    # unresolved: back to the same unit, with a fresh limit (重办); this round awaits its own
    # evaluation (the last one stays on the timeline)
    view.rehandle_count += 1
    view.resolved = view.satisfaction = view.citizen_contacted = None
    view.status = S.REHANDLING
    view.contacted_at = None
    view.completed_at = None
    view.limits["contact"] = Limit(started_at=now, due=terms.due(view.urgency, "contact_limit", now))
    view.limits["completion"] = Limit(started_at=now, due=terms.due(view.urgency, "completion_limit", now))
    view.limits.pop("return_visit", None)
    refresh_overdue(view)  # the late round is over: this one is on time until it misses a limit
    drafts.append(
        Draft(
            EventKind.REHANDLING,
            None,
            view.handling_unit,
            {"round": view.rehandle_count, "completion_due": view.limits["completion"].due.isoformat()},
        )
    )
    return drafts


O, U = (Role.OPERATOR,), (Role.UNIT_STAFF,)

#: The appeal's own actions (its many-hands actions: `domain.collaboration.ALL_ACTIONS`).
ACTIONS: dict[str, Action] = table(
    # the catalogue's choice is the workflow's to record, never the caller's
    Action("dispatch", AppealDispatchInput, _check_dispatch, _dispatch, O,
           (Route("dispatch", {"unit_from_catalogue": None}),)),
    Action("answer", AppealAnswerInput, _check_answer, _answer, O, (Route("answer"),)),
    Action("accept", AppealAcceptInput, _check_accept, _accept, U, (Route("accept"),)),
    Action("raise_objection", ObjectionRaiseInput, _check_objection, _objection, U, (Route("objection"),)),
    Action("review_objection", ObjectionReviewInput, _check_objection_review, _objection_review, O,
           (Route("objection-review"),)),
    Action("record_contact", ContactRecordInput, _check_contact, _contact, U, (Route("contact"),)),
    Action("phased_report", PhasedReportInput, _check_phased_report, _phased_report, U, (Route("phased-report"),)),
    Action("request_extension", ExtensionRequestInput, _check_extension, _extension, U, (Route("extension"),)),
    Action("review_extension", ExtensionReviewInput, _check_extension_review, _extension_review, O,
           (Route("extension-review"),)),
    Action("complete", AppealCompleteInput, _check_complete, _complete, U, (Route("complete"),)),
    Action("evaluate", AppealEvaluateInput, _check_evaluate, _evaluate, O, (Route("evaluation"),), citizen=True),
)


def check(view: AppealView, action: str, cmd: ActionInput, now: datetime) -> None:
    entry = ACTIONS[action]
    entry.check(view, cmd, now, entry)


def apply(view: AppealView, action: str, cmd: ActionInput, now: datetime, terms: Terms) -> list[Draft]:
    drafts: list[Draft] = ACTIONS[action].apply(view, cmd, now, terms)
    return drafts


# --- time limits ---------------------------------------------------------------------------


#: Where the handling unit may still raise a jurisdiction objection (within its window).
OBJECTING = (S.DISPATCHED, S.ACCEPTED)

#: Which limits run in which statuses.
RUNNING = {
    "contact": HANDLING + (S.DISPATCHED, S.OBJECTION_RAISED),
    "completion": HANDLING + (S.DISPATCHED, S.OBJECTION_RAISED),
    "return_visit": (S.AWAITING_EVALUATION, S.ANSWERED),
}


def next_alarm(view: AppealView, terms: Terms, spread: bool = False) -> Alarm | None:
    """The earliest reminder or expiry still to come for the limits running now; with `spread`,
    each reminder put off by its own share of REMINDER_SPREAD (`reminder_at`)."""
    alarms = []
    for name, statuses in RUNNING.items():
        limit = view.limits.get(name)
        if limit is None or view.status not in statuses or not limit.open:
            continue
        if name == "contact" and view.contacted_at is not None:
            continue
        if not limit.reminded and name != "return_visit":
            key = view.appeal_no if spread else None  # one offset per appeal: reminders due together fire together
            at = reminder_at(limit.started_at, limit.due, terms.reminder_at_fraction, key)
            alarms.append(Alarm(f"{name}:reminder", at))
        alarms.append(Alarm(f"{name}:missed", limit.due))
    return min(alarms, key=lambda a: a.at, default=None)


def fire(view: AppealView, alarm: Alarm, now: datetime) -> list[Draft]:
    """What a reminder or an expired limit does."""
    limit = view.limits[alarm.limit]
    if alarm.name.endswith(":reminder"):
        limit.reminded = True
        return [Draft(EventKind.REMINDER, None, view.handling_unit, {"limit": alarm.limit, "due": limit.due.isoformat()})]
    if alarm.limit == "return_visit":
        limit.missed = True
        return [close(view, now, Outcome.NOT_EVALUATED)]
    limit.missed = True
    refresh_overdue(view)
    view.supervised = True
    return [
        Draft(EventKind.LIMIT_MISSED, None, view.handling_unit, {"limit": alarm.limit, "due": limit.due.isoformat()}),
        Draft(EventKind.ESCALATED, None, view.handling_unit, {"to": "supervision", "limit": alarm.limit}),
    ]

