"""Active governance (主动治理、未诉先办) as pure rules: a governance task's inspections, when a
problem counts as gone, and which month the monthly analysis closes.

A supervisor turns a hot spot or a recurring problem (category × place) into a task owned by a
unit. A Temporal Schedule opens an inspection round every `interval_days`; each round has two
findings:

- the **data check**: new appeals of that category at that place since the round before;
- the owner unit's **on-site finding**: is the problem there or not.

A round is *clean* when no appeal came in and the unit found the problem gone; it *recurred*
when an appeal came in or the unit found it there (the quiet period starts again); it stays
*unconfirmed* when the next round comes before the unit has looked (the clean streak breaks,
but nothing says the problem came back). The task closes once the problem has stayed away for
`quiet_days` **and** the last `clean_inspections` rounds were clean.

Also here: the payloads of the governance workflows (no personal data: the place's address and
the task's text stay in PostgreSQL) and the month the scheduled analysis works on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from domain.calendar import CHINA_TZ
from domain.core import Action, Refused, Route, table
from domain.messages import TEXT, Actor
from domain.privacy import scrub
from domain.types import Role

#: Bounds a supervisor may choose within (the defaults are the API's).
INTERVAL_DAYS = (1, 90)
QUIET_DAYS = (0, 730)
CLEAN_INSPECTIONS = (1, 24)
#: How many appeal numbers an inspection keeps as its evidence (the count is exact).
EVIDENCE_KEPT = 20


class TaskStatus(StrEnum):
    ACTIVE = "active"  # inspections running
    CLOSED = "closed"  # the problem stayed away for the agreed period
    CANCELLED = "cancelled"  # a supervisor ended it, with a reason


class TaskSource(StrEnum):
    """Where the task came from."""

    HOTSPOT = "hotspot"  # a high-frequency problem (高频问题)
    RECURRING = "recurring"  # the same problem back at the same place
    MONTHLY_PROBLEM = "monthly_problem"  # one of the month's problems (每月一题)
    MANUAL = "manual"


class RoundOutcome(StrEnum):
    PENDING = "pending"  # data checked, no appeal; waiting for the unit's on-site finding
    CLEAN = "clean"
    RECURRED = "recurred"
    UNCONFIRMED = "unconfirmed"  # the next round came before the unit's finding


class GovernanceTerms(BaseModel):
    """How often to inspect, and how long the problem must stay away."""

    interval_days: int = Field(14, ge=INTERVAL_DAYS[0], le=INTERVAL_DAYS[1])
    quiet_days: int = Field(60, ge=QUIET_DAYS[0], le=QUIET_DAYS[1])
    clean_inspections: int = Field(3, ge=CLEAN_INSPECTIONS[0], le=CLEAN_INSPECTIONS[1])


class Inspection(BaseModel):
    round: int
    at: datetime  # when the round opened (the schedule fired)
    since: datetime  # the data check covers appeals received in (since, at]
    new_appeals: int | None = None  # None until the data check has run
    appeal_nos: list[str] = Field(default_factory=list)  # the first EVIDENCE_KEPT of them
    finding_present: bool | None = None
    finding_note: str | None = None
    finding_by: str | None = None
    finding_at: datetime | None = None
    outcome: RoundOutcome = RoundOutcome.PENDING

    @property
    def awaits_finding(self) -> bool:
        return self.finding_at is None and self.outcome in (RoundOutcome.PENDING, RoundOutcome.RECURRED)


class GovernanceTaskInput(BaseModel):
    """What the task's workflow starts with: classifications and references only."""

    task_id: int
    category: str
    district: str | None = None
    street: str | None = None
    owner_unit: str
    source: TaskSource = TaskSource.MANUAL
    month: str | None = None  # YYYY-MM, for one of the month's problems
    terms: GovernanceTerms
    created_at: datetime  # the row's; the quiet period and the schedule's phase count from it
    created_by: Actor
    carried: GovernanceTaskView | None = None  # the state carried over a continue-as-new


class Reassignment(BaseModel):
    """The task handed from one unit to another by a supervisor."""

    at: datetime
    by: str
    from_unit: str
    to_unit: str
    reason: str


class GovernanceTaskView(BaseModel):
    task_id: int
    category: str
    district: str | None
    street: str | None
    owner_unit: str
    source: TaskSource
    month: str | None = None
    terms: GovernanceTerms
    status: TaskStatus = TaskStatus.ACTIVE
    created_at: datetime
    quiet_since: datetime  # the last time the problem was seen (at first: the task's creation)
    clean_streak: int = 0
    inspections: list[Inspection] = Field(default_factory=list)
    closed_at: datetime | None = None
    close_reason: str | None = None
    closed_by: str | None = None
    reassignments: list[Reassignment] = Field(default_factory=list)
    seq: int = 0  # projections applied; the row only moves forward

    @property
    def current(self) -> Inspection | None:
        return self.inspections[-1] if self.inspections else None

    @property
    def finding_due(self) -> datetime | None:
        """The unit's on-site finding is due before the next round opens."""
        cur = self.current
        if self.status is not TaskStatus.ACTIVE or cur is None or not cur.awaits_finding:
            return None
        return self.due(cur)

    def due(self, insp: Inspection) -> datetime:
        """When a round's on-site finding is due: before the next round opens."""
        return insp.at + timedelta(days=self.terms.interval_days)

    @property
    def next_inspection(self) -> datetime | None:
        """When the schedule is expected to open the next round."""
        if self.status is not TaskStatus.ACTIVE:
            return None
        last = self.current.at if self.current else self.created_at
        return last + timedelta(days=self.terms.interval_days)


GovernanceTaskInput.model_rebuild()


# --- messages ---------------------------------------------------------------------------------


class InspectionDue(BaseModel):
    """From the schedule's action: open the next inspection round."""

    trigger: str  # the scheduled run's workflow id (a repeat of the same one is ignored)


class InspectionTrigger(BaseModel):
    """The input of the small workflow the Schedule starts."""

    task_id: int


class FindingRecordInput(BaseModel):
    """现场核查: the owner unit's on-site finding for the open round."""

    actor: Actor
    round: int | None = Field(None, ge=1, description="the round it is for; default: the open one")
    problem_present: bool
    note: str = Field(min_length=1, max_length=TEXT)


class TaskCancelInput(BaseModel):
    actor: Actor
    reason: str = Field(min_length=1, max_length=TEXT)


class TaskReassignInput(BaseModel):
    """A supervisor hands the task to another unit (the owner was the wrong one, or the work has
    moved); the open round's finding is then the new unit's to give."""

    actor: Actor
    unit: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=TEXT)


# --- rules ------------------------------------------------------------------------------------


def workflow_id(task_id: int) -> str:
    return f"governance-{task_id}"


def schedule_id(task_id: int) -> str:
    return f"governance-{task_id}-inspections"


def open_task(inp: GovernanceTaskInput) -> GovernanceTaskView:
    if inp.carried is not None:
        return inp.carried
    return GovernanceTaskView(
        task_id=inp.task_id,
        category=inp.category,
        district=inp.district,
        street=inp.street,
        owner_unit=inp.owner_unit,
        source=inp.source,
        month=inp.month,
        terms=inp.terms,
        created_at=inp.created_at,
        quiet_since=inp.created_at,
    )


def open_round(view: GovernanceTaskView, at: datetime) -> tuple[Inspection | None, Inspection]:
    """A new round opens; a previous one still waiting for the unit is closed unconfirmed.
    Returns (the previous round if it changed, the new round)."""
    _active(view)
    prev = view.current
    changed = None
    if prev is not None and prev.outcome is RoundOutcome.PENDING:
        prev.outcome = RoundOutcome.UNCONFIRMED
        view.clean_streak = 0
        changed = prev
    since = prev.at if prev is not None else view.created_at
    new = Inspection(round=len(view.inspections) + 1, at=at, since=since)
    view.inspections.append(new)
    return changed, new


def apply_data_check(view: GovernanceTaskView, round_no: int, count: int, appeal_nos: list[str]) -> Inspection:
    """New appeals at the place mean the problem is back: the quiet period starts again."""
    insp = view.inspections[round_no - 1]
    insp.new_appeals = count
    insp.appeal_nos = appeal_nos[:EVIDENCE_KEPT]
    if count > 0:
        _recurred(view, insp, insp.at)
    elif insp.finding_at is not None:  # the unit was quicker than the data check
        _settle(view, insp)
    return insp


def cancelled_by_administrator(view: GovernanceTaskView, now: datetime, reason: str | None) -> None:
    """An administrator cancelled the task's workflow (Temporal UI or CLI): it ends as a
    supervisor's cancellation does, saying who ended it."""
    view.status = TaskStatus.CANCELLED
    view.closed_at = now
    view.close_reason = "cancelled by an administrator" + (f": {scrub(reason.strip())}" if reason and reason.strip() else "")
    view.closed_by = "administrator (Temporal)"


def _check_finding(view: GovernanceTaskView, cmd: FindingRecordInput, now: datetime | None, action: Action) -> Inspection:
    """May this on-site finding be recorded? Returns the round it is for."""
    actor = cmd.actor
    if actor.role not in action.roles:
        raise Refused("only the owner unit's staff record on-site findings", "forbidden")
    if actor.unit != view.owner_unit:
        raise Refused(f"the task is owned by {view.owner_unit}", "wrong_unit")
    _active(view)
    if not cmd.note.strip():
        raise Refused("say what was found on site", "invalid", "note")
    cur = view.current
    if cur is None:
        raise Refused("no inspection is open yet: the first one opens with the schedule")
    if cmd.round is not None and cmd.round != cur.round:
        raise Refused(f"round {cmd.round} is not open: round {cur.round} is")
    if not cur.awaits_finding:
        raise Refused(f"round {cur.round} has its on-site finding already")
    return cur


def _finding(view: GovernanceTaskView, cmd: FindingRecordInput, now: datetime) -> Inspection:
    insp = view.current  # the round the check let through
    assert insp is not None
    insp.finding_present = cmd.problem_present
    insp.finding_note = cmd.note.strip()
    insp.finding_by = cmd.actor.user
    insp.finding_at = now
    if cmd.problem_present:
        _recurred(view, insp, now)
    elif insp.new_appeals is not None:
        _settle(view, insp)
    return insp


def _check_cancel(view: GovernanceTaskView, cmd: TaskCancelInput, now: datetime | None, action: Action) -> None:
    if cmd.actor.role not in action.roles:
        raise Refused("only a supervisor cancels a governance task", "forbidden")
    _active(view)
    if not cmd.reason.strip():
        raise Refused("give the reason for cancelling", "invalid", "reason")


def _cancel(view: GovernanceTaskView, cmd: TaskCancelInput, now: datetime) -> None:
    view.status = TaskStatus.CANCELLED
    view.closed_at = now
    view.close_reason = cmd.reason.strip()
    view.closed_by = cmd.actor.user


def _check_reassign(view: GovernanceTaskView, cmd: TaskReassignInput, now: datetime | None, action: Action) -> None:
    if cmd.actor.role not in action.roles:
        raise Refused("only a supervisor reassigns a governance task", "forbidden")
    _active(view)
    if cmd.unit == view.owner_unit:
        raise Refused(f"the task is owned by {view.owner_unit} already", "wrong_unit")
    if not cmd.reason.strip():
        raise Refused("give the reason for reassigning", "invalid", "reason")


def _reassign(view: GovernanceTaskView, cmd: TaskReassignInput, now: datetime) -> None:
    view.reassignments.append(Reassignment(
        at=now, by=cmd.actor.user, from_unit=view.owner_unit, to_unit=cmd.unit, reason=cmd.reason.strip()))
    view.owner_unit = cmd.unit


#: The task's staff actions (the workflow's Updates of these names, each with its Signal twin);
#: the API's routes are `POST /governance/tasks/{task_id}/<path>`.
ACTIONS: dict[str, Action] = table(
    Action("record_finding", FindingRecordInput, _check_finding, _finding, (Role.UNIT_STAFF,), (Route("findings"),)),
    Action("cancel", TaskCancelInput, _check_cancel, _cancel, (Role.SUPERVISOR,), (Route("cancel"),)),
    Action("reassign", TaskReassignInput, _check_reassign, _reassign, (Role.SUPERVISOR,), (Route("reassign"),)),
)


def check(view: GovernanceTaskView, action: str, cmd: BaseModel, now: datetime | None = None) -> Any:
    """Refused unless the action may be taken now (the Update's validator); a finding's check
    returns the round it is for."""
    entry = ACTIONS[action]
    return entry.check(view, cmd, now, entry)


def apply(view: GovernanceTaskView, action: str, cmd: BaseModel, now: datetime) -> Any:
    """Check again (a Signal twin comes without the validator), then do it."""
    check(view, action, cmd, now)
    return ACTIONS[action].apply(view, cmd, now)


def check_finding(view: GovernanceTaskView, cmd: FindingRecordInput) -> Inspection:
    insp: Inspection = check(view, "record_finding", cmd)
    return insp


def apply_finding(view: GovernanceTaskView, cmd: FindingRecordInput, now: datetime) -> Inspection:
    insp: Inspection = apply(view, "record_finding", cmd, now)
    return insp


def check_cancel(view: GovernanceTaskView, cmd: TaskCancelInput) -> None:
    check(view, "cancel", cmd)


def cancel(view: GovernanceTaskView, cmd: TaskCancelInput, now: datetime) -> None:
    apply(view, "cancel", cmd, now)


def check_reassign(view: GovernanceTaskView, cmd: TaskReassignInput) -> None:
    check(view, "reassign", cmd)


def reassign(view: GovernanceTaskView, cmd: TaskReassignInput, now: datetime) -> None:
    apply(view, "reassign", cmd, now)


def stays_away(view: GovernanceTaskView) -> bool:
    """The agreed period is over: the last `clean_inspections` rounds were clean and the latest
    of them came `quiet_days` or more after the problem was last seen."""
    cur = view.current
    if view.status is not TaskStatus.ACTIVE or cur is None or cur.outcome is not RoundOutcome.CLEAN:
        return False
    return view.clean_streak >= view.terms.clean_inspections and cur.at - view.quiet_since >= timedelta(
        days=view.terms.quiet_days
    )


def close(view: GovernanceTaskView, now: datetime) -> None:
    cur = view.current
    assert cur is not None, "closed on a clean round (should_close)"
    quiet = (cur.at - view.quiet_since).days
    view.status = TaskStatus.CLOSED
    view.closed_at = now
    view.close_reason = (
        f"the problem stayed away {quiet} days with {view.clean_streak} clean inspections in a row "
        f"(agreed: {view.terms.quiet_days} days, {view.terms.clean_inspections} inspections)"
    )
    view.closed_by = "schedule"


@dataclass(frozen=True)
class Notice:
    """One notification for the outbox; `key` makes writing it again a no-op."""

    key: str
    recipient: str
    topic: str
    payload: dict[str, Any]


def notices(view: GovernanceTaskView, rounds: list[Inspection]) -> list[Notice]:
    """What the units are told at a projection: the task handed to a unit (both units hear of
    it), a round opened and its on-site finding is due, the round's data check found new
    appeals at the place. The keys make a notice written again a no-op."""
    if view.status is not TaskStatus.ACTIVE:
        return []
    out = []
    waiting = [i for i in rounds if i.awaits_finding][-1:]
    for n, moved in enumerate(view.reassignments, start=1):
        handed = {"task_id": view.task_id, "from_unit": moved.from_unit, "to_unit": moved.to_unit,
                  "reason": moved.reason, "finding_due": view.due(waiting[0]).isoformat() if waiting else None}
        key = f"governance-{view.task_id}-reassigned-{n}"
        out.append(Notice(f"{key}-to", moved.to_unit, "task_assigned", handed))
        out.append(Notice(f"{key}-from", moved.from_unit, "task_unassigned", handed))
    for insp in rounds:
        if not insp.awaits_finding:
            continue
        about = {
            "task_id": view.task_id,
            "round": insp.round,
            "category": view.category,
            "district": view.district,
            "street": view.street,
            "finding_due": view.due(insp).isoformat(),
        }
        key = f"governance-{view.task_id}-round-{insp.round}"
        out.append(Notice(f"{key}-opened", view.owner_unit, "inspection_opened", about))
        if insp.outcome is RoundOutcome.RECURRED and insp.new_appeals:
            found = {"new_appeals": insp.new_appeals, "appeal_nos": insp.appeal_nos}
            out.append(Notice(f"{key}-recurred", view.owner_unit, "problem_recurred", about | found))
    return out


def _active(view: GovernanceTaskView) -> None:
    if view.status is not TaskStatus.ACTIVE:
        raise Refused(f"the task is {view.status.value}")


def _recurred(view: GovernanceTaskView, insp: Inspection, seen_at: datetime) -> None:
    insp.outcome = RoundOutcome.RECURRED
    view.clean_streak = 0
    view.quiet_since = max(view.quiet_since, seen_at)


def _settle(view: GovernanceTaskView, insp: Inspection) -> None:
    if insp.outcome is RoundOutcome.PENDING:
        insp.outcome = RoundOutcome.CLEAN
        view.clean_streak += 1


# --- the monthly analysis -----------------------------------------------------------------


def parse_month(text: str) -> date:
    """`YYYY-MM` → its first day (ValueError otherwise)."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a month: use YYYY-MM") from None


def month_closed_before(now: datetime) -> str:
    """The Beijing month that ended before `now` (the schedule runs on the 1st, at 02:00)."""
    today = now.astimezone(CHINA_TZ).date()
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


class MonthlyAnalysisInput(BaseModel):
    month: str | None = Field(None, description="YYYY-MM; default: the month just closed (Beijing)")
    candidates: int = Field(10, ge=1, le=50, description="how many themes to propose")


class MonthlyAnalysisResult(BaseModel):
    month: str
    frozen_appeals: int | None  # None: the freeze failed (see freeze_error)
    candidates: int
    freeze_error: str | None = None
