"""The governance rules on their own: rounds, the quiet period, closure, and the analysed month."""

from datetime import datetime, timedelta

import pytest

from domain import governance as rules
from domain.calendar import CHINA_TZ
from domain.core import Refused
from domain.governance import (
    FindingRecordInput,
    GovernanceTaskInput,
    GovernanceTerms,
    RoundOutcome,
    TaskCancelInput,
    TaskReassignInput,
    TaskStatus,
)
from domain.messages import Actor
from domain.types import Role

T0 = datetime(2026, 3, 1, 9, tzinfo=CHINA_TZ)
UNIT = Actor(user="u", role=Role.UNIT_STAFF, unit="BJ-LIGHTING")
DAY = timedelta(days=1)


def task(interval=14, quiet=28, clean=2):
    return rules.open_task(GovernanceTaskInput(
        task_id=1, category="MUNI.STREETLIGHT", district="110101", owner_unit="BJ-LIGHTING",
        terms=GovernanceTerms(interval_days=interval, quiet_days=quiet, clean_inspections=clean),
        created_at=T0, created_by=Actor(user="s", role=Role.SUPERVISOR)))


def finding(present=False, **kw):
    return FindingRecordInput(actor=UNIT, problem_present=present, note="looked", **kw)


def round_(view, day, appeals=0, present=False):
    rules.open_round(view, T0 + day * DAY)
    insp = rules.apply_data_check(view, view.current.round, appeals, [f"A{i}" for i in range(appeals)])
    if view.current.awaits_finding:
        rules.apply_finding(view, finding(present), T0 + (day + 1) * DAY)
    return insp


def test_clean_rounds_over_the_quiet_period_close_the_task():
    v = task()
    round_(v, 14)
    assert (v.current.outcome, v.clean_streak, rules.stays_away(v)) == (RoundOutcome.CLEAN, 1, False)
    round_(v, 28)
    assert rules.stays_away(v)  # 2 clean rounds, 28 quiet days
    rules.close(v, T0 + 29 * DAY)
    assert v.status is TaskStatus.CLOSED and "28 days" in v.close_reason


def test_enough_clean_rounds_are_not_enough_before_the_quiet_period_ends():
    v = task(interval=7, quiet=28, clean=2)
    round_(v, 7)
    round_(v, 14)
    assert v.clean_streak == 2 and not rules.stays_away(v)


def test_new_appeals_recur_and_restart_the_quiet_period_even_if_the_unit_saw_nothing():
    v = task()
    round_(v, 14)
    insp = round_(v, 28, appeals=25)
    assert insp.outcome is RoundOutcome.RECURRED and insp.new_appeals == 25
    assert len(insp.appeal_nos) == rules.EVIDENCE_KEPT and v.quiet_since == T0 + 28 * DAY and v.clean_streak == 0
    assert insp.finding_present is False  # the unit's word is kept, the data decides


def test_the_data_check_after_the_units_finding_settles_the_round():
    v = task()
    rules.open_round(v, T0 + 14 * DAY)
    rules.apply_finding(v, finding(False), T0 + 14 * DAY)
    assert v.current.outcome is RoundOutcome.PENDING
    rules.apply_data_check(v, 1, 0, [])
    assert (v.current.outcome, v.clean_streak) == (RoundOutcome.CLEAN, 1)


def test_a_round_left_without_a_finding_is_unconfirmed_when_the_next_opens():
    v = task()
    round_(v, 14)
    rules.open_round(v, T0 + 28 * DAY)
    rules.apply_data_check(v, 2, 0, [])
    previous, current = rules.open_round(v, T0 + 42 * DAY)
    assert previous.outcome is RoundOutcome.UNCONFIRMED and v.clean_streak == 0 and v.quiet_since == T0
    assert current.since == T0 + 28 * DAY


@pytest.mark.parametrize(
    ("actor", "code"),
    [
        (Actor(user="o", role=Role.OPERATOR), "forbidden"),
        (Actor(user="w", role=Role.UNIT_STAFF, unit="BJ-WATER"), "wrong_unit"),
    ],
)
def test_only_the_owner_unit_records_findings(actor, code):
    v = task()
    rules.open_round(v, T0 + 14 * DAY)
    with pytest.raises(Refused) as e:
        rules.check_finding(v, FindingRecordInput(actor=actor, problem_present=False, note="x"))
    assert e.value.code == code


def test_nothing_more_happens_to_a_cancelled_task():
    v = task()
    rules.cancel(v, TaskCancelInput(actor=Actor(user="s", role=Role.SUPERVISOR), reason="merged"), T0)
    with pytest.raises(Refused):
        rules.open_round(v, T0 + 14 * DAY)
    with pytest.raises(Refused):
        rules.check_cancel(v, TaskCancelInput(actor=Actor(user="s", role=Role.SUPERVISOR), reason="again"))


@pytest.mark.parametrize(
    ("now", "month"),
    [
        ("2026-12-01T02:00:00+08:00", "2026-11"),
        ("2026-11-30T18:00:00+00:00", "2026-11"),  # the same instant, in UTC
        ("2027-01-01T02:00:00+08:00", "2026-12"),
        ("2026-11-30T15:59:00+00:00", "2026-10"),  # still November in Beijing
    ],
)
def test_the_analysis_works_on_the_beijing_month_just_closed(now, month):
    assert rules.month_closed_before(datetime.fromisoformat(now)) == month


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-01", "2026/01", ""])
def test_months_are_read_strictly(text):
    with pytest.raises(ValueError):
        rules.parse_month(text)


def test_the_owner_unit_is_told_when_a_round_opens_and_when_the_problem_is_back():
    v = task(interval=14)
    _, opened = rules.open_round(v, T0 + 14 * DAY)
    [told] = rules.notices(v, [opened])
    assert (told.key, told.recipient, told.topic) == ("governance-1-round-1-opened", "BJ-LIGHTING", "inspection_opened")
    assert told.payload["finding_due"] == (T0 + 28 * DAY).isoformat() and told.payload["round"] == 1

    back = rules.apply_data_check(v, 1, 2, ["A1", "A2"])
    opened_again, recurred = rules.notices(v, [back])
    assert opened_again.key == told.key  # the outbox writes a key once: the unit hears of the round once
    assert recurred.topic == "problem_recurred" and recurred.payload["appeal_nos"] == ["A1", "A2"]

    rules.apply_finding(v, finding(present=True), T0 + 15 * DAY)
    assert rules.notices(v, [v.current]) == []  # the unit has reported: nothing more to tell it
    _, cancelled_round = rules.open_round(v, T0 + 28 * DAY)
    rules.cancel(v, TaskCancelInput(actor=Actor(user="s", role=Role.SUPERVISOR), reason="merged"), T0 + 29 * DAY)
    assert rules.notices(v, [cancelled_round]) == []


def test_a_supervisor_hands_the_task_and_its_open_round_to_another_unit():
    v = task(interval=14)
    _, opened = rules.open_round(v, T0 + 14 * DAY)
    sup = Actor(user="s", role=Role.SUPERVISOR)
    with pytest.raises(Refused, match="only a supervisor"):
        rules.check_reassign(v, TaskReassignInput(actor=UNIT, unit="BJ-WATER", reason="pump"))
    with pytest.raises(Refused, match="already"):
        rules.check_reassign(v, TaskReassignInput(actor=sup, unit="BJ-LIGHTING", reason="same"))
    rules.reassign(v, TaskReassignInput(actor=sup, unit="BJ-WATER", reason=" pumping station "), T0 + 15 * DAY)
    assert v.owner_unit == "BJ-WATER"
    assert v.reassignments[0].model_dump(exclude={"at"}) == {
        "by": "s", "from_unit": "BJ-LIGHTING", "to_unit": "BJ-WATER", "reason": "pumping station"}

    with pytest.raises(Refused, match="owned by BJ-WATER"):
        rules.check_finding(v, finding())  # the old owner's staff
    water = Actor(user="w", role=Role.UNIT_STAFF, unit="BJ-WATER")
    assert rules.check_finding(v, FindingRecordInput(actor=water, problem_present=False, note="ok")) is opened

    handed = [n for n in rules.notices(v, [opened]) if "reassigned" in n.key]
    assert [(n.recipient, n.topic) for n in handed] == [("BJ-WATER", "task_assigned"), ("BJ-LIGHTING", "task_unassigned")]
    assert handed[0].payload["finding_due"] == (T0 + 28 * DAY).isoformat()
