"""The appeal's side of many hands, supervision, transfers and links, as pure rules (the
workflow adds them to the actions of `domain.appeal`).

- request_parts: the lead unit asks co-handling units for their part (协办), or a street blows
  the whistle and summons departments (吹哨); each part becomes a child workflow.
- close_part / rate_part: the lead closes a part with a reason; a street rates a department.
- supervise (督办): a note, a new limit, or an escalation district → municipal.
- transfer_out: to the Tianjin or Hebei hotline (京津冀), closing the appeal here.
- link: a duplicate follows its master's handling (and still gets its own return visit); a
  related appeal is only recorded as such.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from domain.appeal import ACTIONS
from domain.core import Action, Draft, Refused, Route, table
from domain.events import EventKind
from domain.messages import (
    CODE,
    TEXT,
    ActionInput,
    AppealStatus,
    AppealView,
    Outcome,
    PartKind,
    PartStatus,
    PartView,
    Terms,
    part_key,
    part_workflow_id,
)
from domain.privacy import scrub
from domain.rules import (
    HANDLING,
    close,
    open_return_visit,
    refresh_overdue,
    require_handling_unit,
    require_status,
)
from domain.types import Role

S = AppealStatus


class PartsRequestInput(ActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "co_handling",
                    "units": ["110101-CGW"],
                    "task": "清理遮挡路灯的违规广告牌",
                    "limit_working_days": 3,
                },
                {
                    "kind": "whistle",
                    "units": ["110105-CGW", "110105-ZJW", "110105-YLLH", "110105-DLYH"],
                    "task": "打通北辰西路断头路：移交、绿地迁移、道路施工",
                    "limit_working_days": 10,
                    "report_in_hours": 24,
                },
            ]
        }
    )

    kind: PartKind = PartKind.CO_HANDLING
    units: list[Annotated[str, StringConstraints(min_length=1, max_length=CODE)]] = Field(min_length=1, max_length=10)
    task: str = Field(min_length=1, max_length=TEXT)
    limit_working_days: int = Field(default=3, ge=1, le=15)
    report_in_hours: int = Field(default=24, ge=1, le=72, description="whistle: time to report in")

    @field_validator("units")
    @classmethod
    def _distinct(cls, units: list[str]) -> list[str]:
        if len(set(units)) != len(units):
            raise ValueError("a unit is named twice")
        return units


class PartCloseRequestInput(ActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"unit": "110105-YLLH", "kind": "whistle", "reason": "绿地迁移已并入道路施工，由道路养护中心一并完成"},
            ]
        }
    )

    unit: str = Field(min_length=1, max_length=CODE)
    kind: PartKind = PartKind.CO_HANDLING
    reason: str = Field(min_length=1, max_length=TEXT)


class PartRateInput(ActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"unit": "110105-ZJW", "rating": 4, "comment": "按时报到，方案清楚"},
            ]
        }
    )

    unit: str = Field(min_length=1, max_length=CODE)
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=500)


class SuperviseInput(ActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"note": "断头路问题反映多年，请加快办理", "new_due": "2026-12-31T18:00:00+08:00", "escalate": False},
            ]
        }
    )

    note: str = Field(min_length=1, max_length=TEXT)
    new_due: datetime | None = Field(default=None, description="a new completion limit")
    escalate: bool = Field(default=False, description="district supervision → municipal")


class TransferOutInput(ActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"hotline": "tianjin", "reason": "事发地在天津市武清区，转天津12345办理"},
            ]
        }
    )

    hotline: str = Field(pattern=r"^(tianjin|hebei)$")
    reason: str = Field(min_length=1, max_length=TEXT)
    external_no: str | None = Field(default=None, max_length=64)


class LinkInput(ActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"master_no": "BJ-20261203-000042", "kind": "duplicate"},
                {"master_no": "BJ-20261103-000017", "kind": "related"},
            ]
        }
    )

    master_no: str = Field(min_length=1, max_length=32)
    kind: str = Field(pattern=r"^(duplicate|related)$")
    master_open: bool = True  # told by the caller, who looked the master up


class FollowerLinked(BaseModel):
    """Signal to a master appeal: this appeal is linked to you."""

    appeal: str
    kind: str


class MasterDone(BaseModel):
    """Signal to a duplicate: your master appeal reported done."""

    master: str
    result: str
    unit: str | None


class MasterReleased(BaseModel):
    """Signal to a duplicate: your master will not report done; it goes back to the hotline."""

    master: str
    reason: str


OPEN_STATUSES = tuple(s for s in AppealStatus if s is not S.CLOSED)


# --- parts -----------------------------------------------------------------------------------


def _check_request_parts(view: AppealView, cmd: PartsRequestInput, now: datetime, action: Action) -> None:
    require_status(view, *HANDLING)
    require_handling_unit(view, cmd.actor, action)
    for unit in cmd.units:
        if unit == view.handling_unit:
            raise Refused("the lead unit cannot ask itself", "invalid", "units")
        existing = view.parts.get(part_key(cmd.kind, unit))
        if existing is not None and existing.open:
            raise Refused(f"{unit} already has an open part", "invalid", "units")


def _request_parts(view: AppealView, cmd: PartsRequestInput, now: datetime, terms: Terms) -> list[Draft]:
    due = terms.calendar().add_working_days(now, cmd.limit_working_days, end_hour=terms.workday_end_hour)
    report_in_due = now + timedelta(hours=cmd.report_in_hours) if cmd.kind is PartKind.WHISTLE else None
    for unit in cmd.units:
        earlier = view.parts.get(part_key(cmd.kind, unit))
        round_ = earlier.round + 1 if earlier is not None else 1  # asked again: a new workflow
        view.parts[part_key(cmd.kind, unit)] = PartView(
            kind=cmd.kind,
            unit=unit,
            workflow_id=part_workflow_id(view.appeal_no, cmd.kind, unit, round_),
            round=round_,
            task=cmd.task,
            requested_at=now,
            due=due,
            report_in_due=report_in_due,
        )
    kind = EventKind.WHISTLE_BLOWN if cmd.kind is PartKind.WHISTLE else EventKind.CO_HANDLING_REQUESTED
    detail = {"units": cmd.units, "task": cmd.task, "due": due.isoformat()}
    if report_in_due:
        detail["report_in_due"] = report_in_due.isoformat()
    return [Draft(kind, cmd.actor, view.handling_unit, detail)]


def _check_close_part(view: AppealView, cmd: PartCloseRequestInput, now: datetime, action: Action) -> None:
    require_handling_unit(view, cmd.actor, action)
    if not any(p.open or p.status is PartStatus.FAILED for p in view.parts.values()):
        raise Refused("no part is open to close")
    part = view.parts.get(part_key(cmd.kind, cmd.unit))
    if part is None:
        raise Refused(f"{cmd.unit} has no {cmd.kind.value} part", "invalid", "unit")
    if not part.open and part.status is not PartStatus.FAILED:
        raise Refused(f"the part of {cmd.unit} is already {part.status.value}")


def _close_part(view: AppealView, cmd: PartCloseRequestInput, now: datetime, terms: Terms) -> list[Draft]:
    part = view.parts[part_key(cmd.kind, cmd.unit)]
    part.status, part.closed_reason = PartStatus.CLOSED, cmd.reason
    return [Draft(EventKind.PART_CLOSED, cmd.actor, cmd.unit, {"reason": cmd.reason, "by": "lead unit"})]


def _check_rate_part(view: AppealView, cmd: PartRateInput, now: datetime, action: Action) -> None:
    require_handling_unit(view, cmd.actor, action)
    if not any(p.kind is PartKind.WHISTLE and p.status in (PartStatus.DONE, PartStatus.CLOSED)
               for p in view.parts.values()):
        raise Refused("no summoned department has finished its part yet")
    part = view.parts.get(part_key(PartKind.WHISTLE, cmd.unit))
    if part is None:
        raise Refused(f"{cmd.unit} was not summoned to this appeal", "invalid", "unit")
    if part.status not in (PartStatus.DONE, PartStatus.CLOSED):
        raise Refused(f"rate a department once its part is done (it is {part.status.value})")


def _rate_part(view: AppealView, cmd: PartRateInput, now: datetime, terms: Terms) -> list[Draft]:
    part = view.parts[part_key(PartKind.WHISTLE, cmd.unit)]
    part.rating, part.rating_comment = cmd.rating, cmd.comment
    return [Draft(EventKind.DEPARTMENT_RATED, cmd.actor, cmd.unit, {"rating": cmd.rating, "comment": cmd.comment})]


def open_parts(view: AppealView) -> list[PartView]:
    return [p for p in view.parts.values() if p.open]


def settle_parts(view: AppealView, reason: str) -> list[Draft]:
    """Close every open part (the appeal is closing, transferred or merged)."""
    drafts = []
    for part in open_parts(view):
        part.status, part.closed_reason = PartStatus.CLOSED, reason
        drafts.append(Draft(EventKind.PART_CLOSED, None, part.unit, {"reason": reason, "by": "appeal"}))
    return drafts


# --- administrators' buttons (Temporal UI / CLI) ---------------------------------------------

#: Who the timeline names when Temporal, not a staff action, ended the appeal.
BY_TEMPORAL = "an administrator (Temporal)"


def cancelled_by_administrator(view: AppealView, now: datetime, reason: str | None, by: str = BY_TEMPORAL) -> list[Draft]:
    """Request Cancellation closes the appeal as any close does: its open parts are closed, the
    timeline says who and why, and the outcome says it was not a handling result. The reason is
    typed into Temporal by hand: mobile and ID numbers in it stay off the timeline."""
    reason = scrub(reason) if reason else None
    drafts = settle_parts(view, "the appeal was cancelled by an administrator")
    drafts.append(Draft(EventKind.CANCELLED, None, view.handling_unit, {"by": by, "reason": reason or None}))
    drafts.append(close(view, now, Outcome.CANCELLED_BY_ADMINISTRATOR))
    return drafts


def resumed(view: AppealView, by: str, now: datetime, close_reason: str | None = None) -> list[Draft]:
    """A new run takes over an appeal whose workflow ended early, or closes it with a reason.
    The parts' workflows ended with the old run (the parent-close policy cancels them): carrying
    on, open parts are marked failed, so the lead closes them or asks again, as for any part whose
    workflow died."""
    drafts = [Draft(EventKind.WORKFLOW_RESTARTED, None, view.handling_unit, {"by": by, "close_reason": close_reason})]
    if close_reason is not None:
        return drafts + cancelled_by_administrator(view, now, close_reason, by)
    for part in open_parts(view):
        part.status = PartStatus.FAILED
        drafts.append(Draft(EventKind.PART_FAILED, None, part.unit, {"error": "its workflow ended with the appeal's"}))
    return drafts


# --- supervision ---------------------------------------------------------------------------


def _check_supervise(view: AppealView, cmd: SuperviseInput, now: datetime, action: Action) -> None:
    action.require_role(cmd.actor)
    require_status(view, *OPEN_STATUSES)
    if cmd.new_due is not None:
        if cmd.new_due.tzinfo is None:
            raise Refused("the new limit needs a timezone", "invalid", "new_due")
        if cmd.new_due <= now:
            raise Refused("the new limit is in the past", "invalid", "new_due")
        if "completion" not in view.limits or view.status not in HANDLING + (S.DISPATCHED,):
            raise Refused("a new limit needs an order being handled by a unit")
    if cmd.escalate and view.supervision_level == "municipal":
        raise Refused("already under municipal supervision")


def _supervise(view: AppealView, cmd: SuperviseInput, now: datetime, terms: Terms) -> list[Draft]:
    view.supervised = True
    if cmd.escalate:
        view.supervision_level = "municipal"
    elif view.supervision_level is None:
        view.supervision_level = "district"
    detail = {"note": cmd.note, "level": view.supervision_level}
    if cmd.new_due is not None:
        completion = view.limits["completion"]
        completion.due, completion.missed, completion.reminded = cmd.new_due, False, False
        refresh_overdue(view)
        detail["new_due"] = cmd.new_due.isoformat()
    return [Draft(EventKind.SUPERVISED, cmd.actor, view.handling_unit, detail)]


# --- transfers and links ---------------------------------------------------------------------


def _check_transfer_out(view: AppealView, cmd: TransferOutInput, now: datetime, action: Action) -> None:
    action.require_role(cmd.actor)
    require_status(view, S.RECEIVED, S.DISPATCHED, S.OBJECTION_RAISED, S.ACCEPTED, S.CONTACTED, S.IN_PROGRESS)


def _transfer_out(view: AppealView, cmd: TransferOutInput, now: datetime, terms: Terms) -> list[Draft]:
    drafts = settle_parts(view, "the appeal was transferred to another hotline")
    drafts.append(
        Draft(EventKind.TRANSFERRED_OUT, cmd.actor, None, {"hotline": cmd.hotline, "reason": cmd.reason, "external_no": cmd.external_no})
    )
    drafts.append(close(view, now, Outcome.TRANSFERRED_OUT))
    return drafts


def _check_link(view: AppealView, cmd: LinkInput, now: datetime, action: Action) -> None:
    action.require_role(cmd.actor)
    if cmd.master_no == view.appeal_no:
        raise Refused("an appeal cannot be linked to itself", "invalid", "master_no")
    if view.master_no is not None:
        raise Refused(f"already linked to {view.master_no}")
    if cmd.kind == "duplicate":
        require_status(view, S.RECEIVED, S.DISPATCHED, S.OBJECTION_RAISED, S.ACCEPTED)
        if not cmd.master_open:
            raise Refused("the master appeal is closed: link it as related", "invalid", "kind")
        if open_parts(view):
            raise Refused("close the co-handling parts first")
    else:
        require_status(view, *OPEN_STATUSES)


def _link(view: AppealView, cmd: LinkInput, now: datetime, terms: Terms) -> list[Draft]:
    view.master_no, view.link_kind = cmd.master_no, cmd.kind
    drafts = [Draft(EventKind.LINKED, cmd.actor, None, {"master": cmd.master_no, "kind": cmd.kind})]
    if cmd.kind == "duplicate":
        # its own handling stops; it follows the master, and its limits stop with it
        view.status = S.LINKED
        view.limits = {}
    return drafts


def follower_linked(view: AppealView, follower: str, kind: str) -> list[Draft]:
    """On the master: another appeal was linked to this one."""
    if kind == "duplicate" and follower not in view.followers:
        view.followers.append(follower)
    return [Draft(EventKind.APPEAL_LINKED_HERE, None, view.handling_unit, {"appeal": follower, "kind": kind})]


#: Where a master can take duplicates: it is being handled and will report done.
TAKES_DUPLICATES = (S.DISPATCHED, S.OBJECTION_RAISED, S.ACCEPTED, S.CONTACTED, S.IN_PROGRESS, S.REHANDLING)


def master_released(view: AppealView, master: str, reason: str) -> list[Draft]:
    """On a duplicate: its master will not report done (closed otherwise, or not handling);
    the appeal goes back to the hotline to answer or dispatch, the relation kept as related."""
    if view.status is not S.LINKED:
        return []
    view.status, view.link_kind = S.RECEIVED, "related"
    return [Draft(EventKind.UNLINKED, None, None, {"master": master, "reason": reason})]


def master_done(view: AppealView, master: str, result: str, unit: str | None, now: datetime, terms: Terms) -> list[Draft]:
    """On a duplicate: its master reported done; this citizen gets a return visit of their own."""
    if view.status is not S.LINKED:
        return []
    view.handling_unit = unit
    view.status = S.AWAITING_EVALUATION
    view.completed_at = now
    open_return_visit(view, now, terms)
    return [Draft(EventKind.MASTER_REPORTED_DONE, None, unit, {"master": master, "result": result})]


O, U, SUP = (Role.OPERATOR,), (Role.UNIT_STAFF,), (Role.SUPERVISOR,)

#: The appeal's many-hands actions.
ACTIONS_MORE: dict[str, Action] = table(
    Action("request_parts", PartsRequestInput, _check_request_parts, _request_parts, U, (
        Route("co-handling", {"kind": PartKind.CO_HANDLING, "report_in_hours": 24}),
        Route("whistle", {"kind": PartKind.WHISTLE},
              doc="吹哨: the street or township holding the appeal summons departments; each must report "
                  "in within `report_in_hours` with its part of the joint plan, then report done."),
    )),
    Action("close_part", PartCloseRequestInput, _check_close_part, _close_part, U, (Route("parts/close"),)),
    Action("rate_part", PartRateInput, _check_rate_part, _rate_part, U, (Route("parts/rate"),)),
    Action("supervise", SuperviseInput, _check_supervise, _supervise, SUP, (Route("supervise"),)),
    Action("transfer_out", TransferOutInput, _check_transfer_out, _transfer_out, O, (Route("transfer"),)),
    # the caller looks the master up: the route's default is replaced by what it found
    Action("link", LinkInput, _check_link, _link, O, (Route("link", {"master_open": True}),)),
)

#: Every action an appeal takes.
ALL_ACTIONS: dict[str, Action] = {**ACTIONS, **ACTIONS_MORE}


def check(view: AppealView, action: str, cmd: ActionInput, now: datetime) -> None:
    entry = ALL_ACTIONS[action]
    entry.check(view, cmd, now, entry)


def apply(view: AppealView, action: str, cmd: ActionInput, now: datetime, terms: Terms) -> list[Draft]:
    drafts: list[Draft] = ALL_ACTIONS[action].apply(view, cmd, now, terms)
    if view.status is S.CLOSED:
        drafts[-1:-1] = settle_parts(view, "the appeal closed")  # before the "closed" event
    return drafts


# --- who must hear of what ---------------------------------------------------------------------

#: Timeline events a unit or supervisor must learn of, and who.
NOTIFY: dict[str, str] = {  # keyed by EventKind (a str)
    EventKind.DISPATCHED: "unit",
    EventKind.REMINDER: "unit",
    EventKind.LIMIT_MISSED: "unit",
    EventKind.ESCALATED: "unit+supervision",
    EventKind.SUPERVISED: "unit",
    EventKind.OBJECTION_UPHELD: "unit",
    EventKind.REHANDLING: "unit",
    EventKind.CO_HANDLING_REQUESTED: "units",
    EventKind.WHISTLE_BLOWN: "units",
    EventKind.PART_REMINDER: "event_unit",
    EventKind.PART_LIMIT_MISSED: "event_unit+supervision",
    EventKind.PART_DONE: "unit",
    EventKind.PART_DECLINED: "unit",
    EventKind.PART_CLOSED: "event_unit",
    EventKind.CANCELLED: "unit",
}


def recipients(view: AppealView, kind: str, event_unit: str | None, detail: dict[str, Any]) -> list[str]:
    """Unit codes (and `supervision:<district|city>`) to notify of one timeline event."""
    rule = NOTIFY.get(kind)
    if rule is None:
        return []
    # whole names, not prefixes: "units" (those summoned) does not include "unit" (the one asking)
    who = set(rule.split("+"))
    found: list[str] = []
    if "unit" in who and view.handling_unit:
        found.append(view.handling_unit)
    if "event_unit" in who and event_unit:
        found.append(event_unit)
    if "units" in who:
        found.extend(detail.get("units", []))
    if "supervision" in who:
        found.append("supervision:" + ("city" if view.supervision_level == "municipal" else view.district or "city"))
    return list(dict.fromkeys(found))
