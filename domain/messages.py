"""Payloads that cross the Temporal boundary: workflow input, one input type per staff action,
and the appeal's view returned by every update.

None of them carries a citizen's name, phone, ID number or address line, nor the appeal's free
text: those stay in PostgreSQL. Fields are added, never renamed, so recorded histories keep
replaying.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.calendar import WorkCalendar, deadline
from domain.types import AppealType, Channel, LimitUnit, Role, Urgency

TEXT = 2000  # longest free text a staff member may put into a message
CODE = 40  # longest unit or category code (the directory's columns)


class AppealStatus(StrEnum):
    RECEIVED = "received"  # recorded, held for the operator to answer or dispatch
    ANSWERED = "answered"  # answered on the spot; awaiting the citizen's evaluation
    DISPATCHED = "dispatched"  # waiting for the unit to accept or object
    OBJECTION_RAISED = "objection_raised"  # jurisdiction objection, hotline to review
    ACCEPTED = "accepted"
    CONTACTED = "contacted"  # the unit has contacted the citizen
    IN_PROGRESS = "in_progress"  # phased reports filed
    AWAITING_EVALUATION = "awaiting_evaluation"  # reported done; return visit under way
    REHANDLING = "rehandling"  # evaluated unresolved: back to the same unit
    LINKED = "linked"  # a duplicate: follows its master appeal's handling
    CLOSED = "closed"


#: Where the hotline's work on an order is over: closed, or a consultation answered on the spot
#: (即时答复). An answered consultation's workflow runs on until its return-visit window passes,
#: so the citizen can still evaluate it, but it is no open order: no list, supervision or figure
#: of open orders counts it. Ask `is_open_order` (or filter SQL on `OPEN_ORDER_STATUSES`).
NOT_OPEN_ORDER = frozenset({AppealStatus.CLOSED, AppealStatus.ANSWERED})
OPEN_ORDER_STATUSES = tuple(s.value for s in AppealStatus if s not in NOT_OPEN_ORDER)


def is_open_order(status: AppealStatus | str) -> bool:
    """Does the hotline (or a unit) still owe work on an order in this status?"""
    return AppealStatus(status) not in NOT_OPEN_ORDER


class Outcome(StrEnum):
    """How a closed order ended. Only RESOLVED counts as resolved."""

    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    NOT_EVALUATED = "not_evaluated"
    NOT_ACCEPTED = "not_accepted"
    EMERGENCY_TRANSFERRED = "emergency_transferred"
    TRANSFERRED_OUT = "transferred_out"  # to the Tianjin or Hebei hotline (京津冀)
    CANCELLED_BY_ADMINISTRATOR = "cancelled_by_administrator"  # Request Cancellation in Temporal, or closed on restart


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


class CitizenContacted(StrEnum):
    """The return visit asks whether the unit got in touch; the response rate (响应率) counts
    this answer, and the unit's own record only where the citizen was not asked."""

    YES = "yes"
    NO = "no"
    NOT_ASKED = "not_asked"


class IntakeDecision(StrEnum):
    DISPATCH = "dispatch"  # to the unit named, or by the catalogue
    ANSWER = "answer"  # consultation answered on the spot
    HOLD = "hold"  # recorded; an operator answers or dispatches it later
    NOT_ACCEPTED = "not_accepted"  # outside what the hotline handles (reason + channel)
    EMERGENCY = "emergency"  # transferred to 110 / 119 / 120 / 122


class NotAcceptedReason(StrEnum):
    LITIGATION = "litigation"  # in litigation, arbitration or administrative review
    PETITION = "petition"  # in a petition (信访) or discipline procedure
    ILLEGAL_DEMAND = "illegal_demand"
    OUTSIDE_REMIT = "outside_remit"  # no public body's remit: market or social channels


#: Where the citizen is pointed when an appeal is not accepted.
RIGHT_CHANNEL = {
    NotAcceptedReason.LITIGATION: "the court, arbitration body or administrative-review organ handling it",
    NotAcceptedReason.PETITION: "the petition (信访) office or discipline body handling it",
    NotAcceptedReason.ILLEGAL_DEMAND: "none: the demand is against the law",
    NotAcceptedReason.OUTSIDE_REMIT: "market or social channels (the business, a lawyer, a mediation committee)",
}


class EmergencyService(StrEnum):
    POLICE = "110"
    FIRE = "119"
    AMBULANCE = "120"
    TRAFFIC_POLICE = "122"


class Actor(BaseModel):
    """Who does something: a staff member (by username), or the citizen (no identity kept)."""

    user: str = Field(max_length=64)
    role: Role | None = None  # None: the citizen
    unit: str | None = Field(default=None, max_length=CODE)

    @classmethod
    def citizen(cls) -> Actor:
        return cls(user="citizen")


# --- workflow input -----------------------------------------------------------------------


class AppealInput(BaseModel):
    """What the workflow starts with: references and classifications, no personal data."""

    appeal_no: str
    channel: Channel
    appeal_type: AppealType
    category: str
    urgency: Urgency
    district: str | None = None
    street: str | None = None
    received_at: datetime
    decision: IntakeDecision = IntakeDecision.DISPATCH
    unit: str | None = None  # named by the operator, or chosen by the catalogue at intake; else the workflow routes
    unit_from_catalogue: bool = False  # the intake chose `unit` by the dispatch catalogue
    not_accepted_reason: NotAcceptedReason | None = None
    emergency_service: EmergencyService | None = None
    answer: str | None = Field(default=None, max_length=TEXT)
    operator: Actor
    resumed: AppealResumeInput | None = None  # a new run of an appeal whose workflow ended early
    # display names (code → Chinese name) of the category and the units the intake knew, for
    # what the Temporal UI shows; reference data, no personal data
    names: dict[str, str] = Field(default_factory=dict)


# --- one input per action -----------------------------------------------------------------
# Each body's `examples` (without the actor: the caller's token says who acts) come from the
# seed stories: the street lights of 方家胡同, the objection at 朝外, the whistle of 亚运村. The
# API's docs show them, and send them in tests.


class ActionInput(BaseModel):
    actor: Actor


class AppealDispatchInput(ActionInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"unit": "BJ-LIGHTING"}, {}]})

    unit: str | None = Field(default=None, max_length=CODE)  # None: by the catalogue
    # set by the workflow, which knows whether it routed (the API fixes it to None): True when
    # the catalogue chose the unit, False when the operator named it; None in older runs
    unit_from_catalogue: bool | None = None


class AppealAnswerInput(ActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"answer": "供暖季为每年11月15日至次年3月15日；室温不达标可报热力集团维修"},
            ]
        }
    )

    answer: str = Field(min_length=1, max_length=TEXT)


class AppealAcceptInput(ActionInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class ObjectionRaiseInput(ActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"reason": "垃圾堆放处为开发商用地，由区城管委管理，不属街道管辖", "suggested_unit": "110105-CGW"},
            ]
        }
    )

    reason: str = Field(min_length=1, max_length=TEXT)
    suggested_unit: str = Field(min_length=1, max_length=CODE)


class ObjectionReviewInput(ActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"uphold": True, "comment": "属实，改派区城管委"},
                {"uphold": False, "comment": "堆放处为街道管辖的公共区域，仍由街道办理"},
            ]
        }
    )

    uphold: bool
    new_unit: str | None = Field(default=None, max_length=CODE)  # defaults to the unit the objection suggested
    comment: str | None = Field(default=None, max_length=TEXT)


class ContactRecordInput(ActionInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "与诉求人一起查看了方家胡同的路灯"}]})

    note: str | None = Field(default=None, max_length=TEXT)


class PhasedReportInput(ActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "progress": "已更换12盏路灯，其余需定制胡同壁灯",
                    "reason": "壁灯需定制，工期约两周",
                    "expected_date": "2026-12-18",
                },
            ]
        }
    )

    progress: str = Field(min_length=1, max_length=TEXT)
    reason: str | None = Field(default=None, max_length=TEXT)  # why it is not finished
    expected_date: date | None = None


class ExtensionRequestInput(ActionInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "胡同壁灯需定制并征求居民意见，申请延期"}]})

    reason: str = Field(min_length=1, max_length=TEXT)


class ExtensionReviewInput(ActionInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"approve": True, "comment": "同意延期"}]})

    approve: bool
    comment: str | None = Field(default=None, max_length=TEXT)


class AppealCompleteInput(ActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"result": "更换路灯33盏，胡同夜间照明恢复"},
                {"result": "安装下照式胡同壁灯", "late_reason": "壁灯定制晚到三天"},
            ]
        }
    )

    result: str = Field(min_length=1, max_length=TEXT)
    late_reason: str | None = Field(default=None, max_length=TEXT, description="required past the limit")


class AppealEvaluateInput(ActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"resolved": False, "satisfaction": "unsatisfied", "comment": "灯和胡同环境不搭", "contacted": "yes"},
                {"resolved": True, "satisfaction": "satisfied", "contacted": "yes"},
            ]
        }
    )

    resolved: bool
    satisfaction: Satisfaction
    comment: str | None = Field(default=None, max_length=TEXT)
    contacted: CitizenContacted = Field(
        default=CitizenContacted.NOT_ASKED,
        description="did the unit get in touch? (counts for the response rate; not_asked: the unit's record counts)",
    )


# --- parts: co-handling units and summoned departments ----------------------------------

class PartKind(StrEnum):
    CO_HANDLING = "co_handling"
    WHISTLE = "whistle"


class PartStatus(StrEnum):
    REQUESTED = "requested"  # waiting for the unit to accept / report in
    ACCEPTED = "accepted"  # accepted (co-handling) or reported in (whistle)
    DECLINED = "declined"  # the unit declines its part; the hotline reviews
    DONE = "done"
    CLOSED = "closed"  # closed without being done: declined and upheld, closed by the lead, appeal closed
    FAILED = "failed"  # its workflow failed; the lead may close it or ask again


OPEN_PARTS = (PartStatus.REQUESTED, PartStatus.ACCEPTED, PartStatus.DECLINED)


def part_key(kind: PartKind | str, unit: str) -> str:
    return f"{PartKind(kind).value}:{unit}"


def part_workflow_id(appeal_no: str, kind: PartKind | str, unit: str, round: int = 1) -> str:
    segment = "co" if PartKind(kind) is PartKind.CO_HANDLING else "whistle"
    suffix = f"/{round}" if round > 1 else ""
    return f"appeal-{appeal_no}/{segment}/{unit}{suffix}"


def part_round(workflow_id: str) -> int:
    """The round a part's workflow id names (`appeal-<no>/co/<unit>/2` is the second; without
    the fourth segment, the first). Unit codes may be digits: the segment's place tells."""
    segments = workflow_id.split("/")
    return int(segments[3]) if len(segments) == 4 else 1


class PartInput(BaseModel):
    """What a part's workflow starts with."""

    appeal_no: str
    parent_workflow_id: str
    kind: PartKind
    unit: str
    lead_unit: str
    task: str = Field(max_length=TEXT)
    requested_at: datetime
    due: datetime
    report_in_due: datetime | None = None  # whistle only
    requested_by: Actor
    reminder_at_fraction: float = 0.75
    # the appeal's classification, so a part is found by the same search attributes (None in
    # parts started by older runs)
    district: str | None = None
    street: str | None = None
    category: str | None = None
    urgency: Urgency | None = None
    # display names (code → Chinese name) for the part's current details, as the appeal has them
    names: dict[str, str] = Field(default_factory=dict)


class PartView(BaseModel):
    """A part as the parent appeal shows it (and projects to `appeal_part`)."""

    kind: PartKind
    unit: str
    workflow_id: str
    task: str
    status: PartStatus = PartStatus.REQUESTED
    requested_at: datetime
    due: datetime
    report_in_due: datetime | None = None
    accepted_at: datetime | None = None
    done_at: datetime | None = None
    overdue: bool = False
    plan: str | None = None
    result: str | None = None
    decline_reason: str | None = None
    closed_reason: str | None = None
    rating: int | None = None
    rating_comment: str | None = None
    round: int = 1  # asked again after an earlier part of the same unit closed
    reminded: bool = False
    missed: bool = False
    report_in_reminded: bool = False
    report_in_missed: bool = False

    @property
    def open(self) -> bool:
        return self.status in OPEN_PARTS


class PartActionInput(BaseModel):
    actor: Actor


class PartAcceptInput(PartActionInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"plan": "区住建委：两周内办结道路移交手续"}, {}]})

    plan: str | None = Field(default=None, max_length=TEXT, description="whistle: its part of the joint plan")


class PartPhasedReportInput(PartActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"progress": "移交手续已报区政府", "reason": "需区政府常务会审议"},
            ]
        }
    )

    progress: str = Field(min_length=1, max_length=TEXT)
    reason: str | None = Field(default=None, max_length=TEXT)


class PartReportInput(PartActionInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"result": "道路移交手续已办结"}]})

    result: str = Field(min_length=1, max_length=TEXT)
    late_reason: str | None = Field(default=None, max_length=TEXT, description="required when past the limit")


class PartDeclineInput(PartActionInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "该路段绿地不属园林绿化局养护范围"}]})

    reason: str = Field(min_length=1, max_length=TEXT)


class PartDeclineReviewInput(PartActionInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"uphold": False, "comment": "绿地迁移属园林绿化局职责，请按方案办理"},
            ]
        }
    )

    uphold: bool
    comment: str | None = Field(default=None, max_length=TEXT)


class PartCloseInput(PartActionInput):
    reason: str = Field(min_length=1, max_length=TEXT)


class PartChange(BaseModel):
    """What a part's workflow tells its appeal: the event and the part as it now stands."""

    event: str
    actor: Actor | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    part: PartView



class AppealResumeInput(BaseModel):
    """A new run for an appeal whose workflow was terminated (or failed) while the appeal was
    open: it carries on from the view last projected, or closes it at once with a reason."""

    view: AppealView
    by: str = Field(max_length=64)  # the administrator who restarted it
    close_reason: str | None = Field(default=None, max_length=TEXT)


# --- time-limit terms (loaded by an activity) ---------------------------------------------


class PolicyTerms(BaseModel):
    urgency: Urgency
    contact_limit: int
    contact_limit_unit: LimitUnit
    completion_limit: int
    completion_limit_unit: LimitUnit
    objection_window: int
    objection_window_unit: LimitUnit
    return_visit_window: int
    return_visit_window_unit: LimitUnit


class Terms(BaseModel):
    """Everything the time limits of one appeal are computed from."""

    policies: list[PolicyTerms]
    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)
    workday_end_hour: int = 18
    reminder_at_fraction: float = 0.75
    max_rehandles: int = 2

    def policy(self, urgency: Urgency) -> PolicyTerms:
        for p in self.policies:
            if p.urgency == urgency:
                return p
        raise LookupError(f"no time-limit policy for urgency {urgency}")

    def calendar(self) -> WorkCalendar:
        return WorkCalendar(frozenset(self.holidays), frozenset(self.workdays))

    def due(self, urgency: Urgency, name: str, start: datetime) -> datetime:
        """When the policy's limit `name` (contact_limit, completion_limit, objection_window,
        return_visit_window) for this urgency runs out, if it starts at `start`."""
        policy = self.policy(urgency)
        amount, unit = getattr(policy, name), getattr(policy, f"{name}_unit")
        return deadline(start, amount, unit, self.calendar(), end_hour=self.workday_end_hour)


# --- what the workflow knows ---------------------------------------------------------------


class Limit(BaseModel):
    """One time limit of the current round: when it started, when it is due, and how it ended."""

    started_at: datetime
    due: datetime
    met_at: datetime | None = None
    missed: bool = False
    reminded: bool = False

    @property
    def open(self) -> bool:
        return self.met_at is None and not self.missed

    @property
    def met_in_time(self) -> bool:
        return self.met_at is not None and self.met_at <= self.due


class Objection(BaseModel):
    unit: str
    reason: str
    suggested_unit: str
    raised_at: datetime
    upheld: bool | None = None


class AppealView(BaseModel):
    """The appeal as the workflow sees it; returned by every update and projected to PostgreSQL."""

    appeal_no: str
    appeal_type: AppealType
    category: str
    urgency: Urgency
    channel: Channel
    district: str | None
    street: str | None
    received_at: datetime
    status: AppealStatus = AppealStatus.RECEIVED
    handling_unit: str | None = None
    units: list[str] = Field(default_factory=list)  # every unit it was dispatched to, in order
    dispatched_at: datetime | None = None
    limits: dict[str, Limit] = Field(default_factory=dict)  # objection, contact, completion, return_visit
    objection: Objection | None = None
    extension: str | None = None  # requested | approved | rejected
    contacted_at: datetime | None = None
    completed_at: datetime | None = None
    overdue: bool = False
    supervised: bool = False
    rehandle_count: int = 0
    resolved: bool | None = None
    satisfaction: Satisfaction | None = None
    citizen_contacted: CitizenContacted | None = None  # the latest round's evaluation said; None before one
    outcome: Outcome | None = None
    closed_at: datetime | None = None
    parts: dict[str, PartView] = Field(default_factory=dict)  # "<kind>:<unit>" → the part
    supervision_level: str | None = None  # district | municipal
    master_no: str | None = None  # linked to this appeal
    link_kind: str | None = None  # duplicate | related
    followers: list[str] = Field(default_factory=list)  # duplicates following this appeal
    seq: int = 0  # number of timeline events so far
    # PostgreSQL refused the last projection (a data or integrity error retrying cannot fix):
    # the workflow runs on, the row lags behind until a projection succeeds again
    projection_failed: bool = False

    @property
    def reply_deadline(self) -> datetime | None:
        """The limit the unit works against now (the ReplyDeadline search attribute): the
        earliest running limit not yet met — first contact until the citizen is contacted, and
        completion (with a supervisor's new due) until the unit reports done. A missed limit
        stays: the order is late against it, and "ReplyDeadline < now" must find it."""
        if self.status in NOT_WITH_A_UNIT:
            return None
        contact = self.limits.get("contact")
        completion = self.limits.get("completion")
        dues = [contact.due] if contact is not None and self.contacted_at is None else []
        dues += [completion.due] if completion is not None and completion.met_at is None else []
        return min(dues, default=None)

    @property
    def first_reply_deadline(self) -> datetime | None:
        """ReplyDeadline as older runs set it: contact until contacted, then completion (kept
        for their replay: the upserts of their histories depend on it)."""
        if self.status in NOT_WITH_A_UNIT:
            return None
        contact = self.limits.get("contact")
        if contact is not None and self.contacted_at is None:
            return contact.due
        completion = self.limits.get("completion")
        return completion.due if completion is not None else None


NOT_WITH_A_UNIT = {AppealStatus.CLOSED, AppealStatus.AWAITING_EVALUATION, AppealStatus.ANSWERED, AppealStatus.RECEIVED}


class TimelineEvent(BaseModel):
    """One entry of the appeal's timeline."""

    seq: int
    kind: str
    at: datetime
    actor: Actor | None = None
    unit: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


AppealInput.model_rebuild()
