"""The pure rules of a work order's life (domain/appeal.py), driven without Temporal or a database."""

from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from domain.appeal import ACTIONS, Refused, apply, check, fire, next_alarm, open_appeal, start_clock, validate_intake
from domain.calendar import CHINA_TZ
from domain.core import REMINDER_SPREAD
from domain.messages import (
    RIGHT_CHANNEL,
    Actor,
    AppealInput,
    AppealStatus,
    EmergencyService,
    IntakeDecision,
    NotAcceptedReason,
    Outcome,
    PolicyTerms,
    Satisfaction,
    Terms,
)
from domain.types import AppealType, Channel, LimitUnit, Role, Urgency

S = AppealStatus
H, D = LimitUnit.HOURS, LimitUnit.DAYS


def cst(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def _policy(urgency, contact, contact_unit, completion, completion_unit) -> PolicyTerms:
    return PolicyTerms(urgency=urgency, contact_limit=contact, contact_limit_unit=contact_unit,
                       completion_limit=completion, completion_limit_unit=completion_unit,
                       objection_window=1, objection_window_unit=LimitUnit.WORKING_DAYS,
                       return_visit_window=5, return_visit_window_unit=LimitUnit.WORKING_DAYS)


# National Day 2026: 1–7 October off, Sunday 20 September and Saturday 10 October worked.
TERMS = Terms(
    policies=[_policy(Urgency.EMERGENCY, 2, H, 2, H), _policy(Urgency.UTILITY, 24, H, 24, H),
              _policy(Urgency.ORDINARY, 24, H, 7, D), _policy(Urgency.COMPLEX, 24, H, 15, D)],
    holidays=[date(2026, 10, d) for d in range(1, 8)],
    workdays=[date(2026, 9, 20), date(2026, 10, 10)],
)

A, B, C = "UNIT-A", "UNIT-B", "UNIT-C"
OPERATOR = Actor(user="op1", role=Role.OPERATOR)
SUPERVISOR = Actor(user="sup1", role=Role.SUPERVISOR)
CITIZEN = Actor.citizen()
T0 = cst(2026, 11, 23, 9)  # Monday 09:00: received and dispatched
NOW = T0 + timedelta(hours=2)  # when the status × action matrix acts
UNRESOLVED = {"resolved": False, "satisfaction": Satisfaction.UNSATISFIED}


def staff(unit: str) -> Actor:
    return Actor(user=f"{unit.lower()}-clerk", role=Role.UNIT_STAFF, unit=unit)


def intake(decision=IntakeDecision.DISPATCH, **fields) -> AppealInput:
    base = dict(appeal_no="BJ-1", channel=Channel.PHONE, appeal_type=AppealType.COMPLAINT, category="MUNI.ROAD",
                urgency=Urgency.ORDINARY, district="110105", received_at=T0, decision=decision, operator=OPERATOR)
    return AppealInput(**(base | fields))


def command(view, action: str, **over):
    """The ordinary command for `action`, from the person who would normally do it."""
    unit = view.handling_unit or A
    base = {
        "dispatch": dict(actor=OPERATOR, unit=A),
        "answer": dict(actor=OPERATOR, answer="the office opens at nine"),
        "accept": dict(actor=staff(unit)),
        "raise_objection": dict(actor=staff(unit), reason="not our road", suggested_unit=C if unit == B else B),
        "review_objection": dict(actor=OPERATOR, uphold=False),
        "record_contact": dict(actor=staff(unit)),
        "phased_report": dict(actor=staff(unit), progress="half of the potholes filled"),
        "request_extension": dict(actor=staff(unit), reason="needs a contractor"),
        "review_extension": dict(actor=OPERATOR, approve=True),
        "complete": dict(actor=staff(unit), result="road repaired"),
        "evaluate": dict(actor=CITIZEN, resolved=True, satisfaction=Satisfaction.SATISFIED),
    }[action]
    return ACTIONS[action].input_type(**(base | over))


def act(view, action: str, at: datetime, terms: Terms = TERMS, **over):
    cmd = command(view, action, **over)
    check(view, action, cmd, at)
    return apply(view, action, cmd, at, terms)


def refusal(view, action: str, at: datetime, **over) -> str:
    with pytest.raises(Refused) as refused:
        check(view, action, command(view, action, **over), at)
    return refused.value.code


def dispatched(at: datetime = T0, urgency: Urgency = Urgency.ORDINARY, unit: str = A):
    view, _ = open_appeal(intake(urgency=urgency, unit=unit, received_at=at), at, TERMS)
    start_clock(view, unit, at, TERMS)  # what the workflow does after a dispatch decision
    return view


_DONE = [("accept", {}), ("record_contact", {}), ("complete", {})]
PATHS = {
    S.DISPATCHED: [], S.OBJECTION_RAISED: [("raise_objection", {})], S.ACCEPTED: [("accept", {})],
    S.CONTACTED: _DONE[:2], S.IN_PROGRESS: _DONE[:2] + [("phased_report", {})], S.AWAITING_EVALUATION: _DONE,
    S.REHANDLING: _DONE + [("evaluate", UNRESOLVED)], S.CLOSED: _DONE + [("evaluate", {})],
}


def view_in(status: AppealStatus, urgency: Urgency = Urgency.ORDINARY):
    """An order brought to `status` by the rules themselves, one step every ten minutes from T0."""
    if status is S.RECEIVED:
        return open_appeal(intake(IntakeDecision.HOLD, urgency=urgency), T0, TERMS)[0]
    if status is S.ANSWERED:
        return open_appeal(intake(IntakeDecision.ANSWER, urgency=urgency, answer="see the notice"), T0, TERMS)[0]
    view = dispatched(urgency=urgency)
    if status is S.LINKED:  # a duplicate following its master (domain.collaboration)
        from domain import collaboration

        link = collaboration.LinkInput(actor=OPERATOR, master_no="BJ-20261101-000001", kind="duplicate")
        collaboration.apply(view, "link", link, T0 + timedelta(minutes=10), TERMS)
        return view
    for i, (action, over) in enumerate(PATHS[status], start=1):
        act(view, action, T0 + timedelta(minutes=10 * i), **over)
    assert view.status is status
    return view


def fire_until(view, until: datetime) -> None:
    while (alarm := next_alarm(view, TERMS)) is not None and alarm.at <= until:
        fire(view, alarm, alarm.at)


# --- which action is allowed when ---------------------------------------------------------

#: action -> {status it is allowed in: status it leads to}; refused as wrong_state everywhere else.
MOVES = {
    "dispatch": {S.RECEIVED: S.DISPATCHED},
    "answer": {S.RECEIVED: S.ANSWERED},
    "accept": {S.DISPATCHED: S.ACCEPTED},
    "raise_objection": {S.DISPATCHED: S.OBJECTION_RAISED, S.ACCEPTED: S.OBJECTION_RAISED},
    "review_objection": {S.OBJECTION_RAISED: S.ACCEPTED},  # rejected: the order stays
    "record_contact": {S.ACCEPTED: S.CONTACTED, S.REHANDLING: S.CONTACTED, S.OBJECTION_RAISED: S.OBJECTION_RAISED},
    "phased_report": {S.ACCEPTED: S.IN_PROGRESS, S.CONTACTED: S.IN_PROGRESS, S.IN_PROGRESS: S.IN_PROGRESS,
                      S.REHANDLING: S.REHANDLING},
    "request_extension": {S.ACCEPTED: S.ACCEPTED, S.CONTACTED: S.CONTACTED, S.IN_PROGRESS: S.IN_PROGRESS},
    "review_extension": {},  # nothing is waiting for review on these paths; see the extension tests
    "complete": {S.CONTACTED: S.AWAITING_EVALUATION, S.IN_PROGRESS: S.AWAITING_EVALUATION},
    "evaluate": {S.AWAITING_EVALUATION: S.CLOSED, S.ANSWERED: S.CLOSED},
}


def test_the_matrix_covers_every_action():
    assert set(MOVES) == set(ACTIONS)


@pytest.mark.parametrize("action", list(MOVES))
@pytest.mark.parametrize("status", list(S))
def test_each_action_is_allowed_only_in_its_statuses(status, action):
    view = view_in(status)
    if status in MOVES[action]:
        assert act(view, action, NOW)
        assert view.status is MOVES[action][status]
    else:
        assert refusal(view, action, NOW) == "wrong_state"


@pytest.mark.parametrize(
    ("status", "action"),
    [(S.DISPATCHED, "accept"), (S.DISPATCHED, "raise_objection"), (S.ACCEPTED, "record_contact"),
     (S.CONTACTED, "phased_report"), (S.CONTACTED, "request_extension"), (S.CONTACTED, "complete")],
)
@pytest.mark.parametrize(
    ("actor", "code"),
    [(staff(B), "wrong_unit"), (OPERATOR, "forbidden"), (SUPERVISOR, "forbidden"), (CITIZEN, "forbidden")],
)
def test_only_the_handling_units_staff_act_on_the_order(status, action, actor, code):
    assert refusal(view_in(status), action, NOW, actor=actor) == code


HOTLINE = [(S.RECEIVED, "dispatch"), (S.RECEIVED, "answer"), (S.OBJECTION_RAISED, "review_objection"),
           (S.CONTACTED, "review_extension"), (S.AWAITING_EVALUATION, "evaluate")]


@pytest.mark.parametrize(
    ("status", "action", "actor"),
    [(s, a, who) for s, a in HOTLINE for who in (staff(A), SUPERVISOR, CITIZEN) if (a, who) != ("evaluate", CITIZEN)],
)
def test_hotline_decisions_are_refused_to_units_supervisors_and_citizens(status, action, actor):
    assert refusal(view_in(status), action, NOW, actor=actor) == "forbidden"


def test_dispatch_without_unit_or_district_asks_for_the_unit():
    view = open_appeal(intake(IntakeDecision.HOLD, district=None), T0, TERMS)[0]
    assert refusal(view, "dispatch", NOW, unit=None) == "invalid"
    with_district = view_in(S.RECEIVED)
    check(with_district, "dispatch", command(with_district, "dispatch", unit=None), NOW)  # the catalogue decides


def test_a_result_cannot_be_reported_before_the_citizen_was_contacted():
    view = view_in(S.ACCEPTED)
    act(view, "phased_report", NOW)  # in progress, but nobody has called the citizen yet
    assert refusal(view, "complete", NOW) == "wrong_state"
    act(view, "record_contact", NOW)
    act(view, "complete", NOW)
    assert view.status is S.AWAITING_EVALUATION


@pytest.mark.parametrize(
    ("status", "action", "over"),
    [
        (S.CONTACTED, "phased_report", {"expected_date": date(2026, 11, 22)}),  # a promise already broken
        (S.DISPATCHED, "raise_objection", {"suggested_unit": A}),  # suggesting itself
        (S.OBJECTION_RAISED, "review_objection", {"uphold": True, "new_unit": A}),  # back to the objecting unit
    ],
)
def test_commands_that_make_no_sense_are_invalid(status, action, over):
    assert refusal(view_in(status), action, NOW, **over) == "invalid"


# --- first-receiver responsibility and objections ------------------------------------------
def test_an_upheld_objection_hands_the_order_and_its_responsibility_to_the_new_unit():
    view = dispatched()
    act(view, "raise_objection", T0 + timedelta(hours=1), suggested_unit=B)
    act(view, "review_objection", T0 + timedelta(hours=3), uphold=True)
    assert (view.handling_unit, view.units, view.status, view.objection.upheld) == (B, [A, B], S.DISPATCHED, True)
    assert refusal(view, "accept", NOW, actor=staff(A)) == "wrong_unit"
    act(view, "accept", NOW, actor=staff(B))
    assert view.status is S.ACCEPTED
    act(view, "raise_objection", NOW, suggested_unit=C)  # the new unit has its own one objection


def test_the_hotline_may_re_dispatch_to_another_unit_than_the_one_suggested():
    view = view_in(S.OBJECTION_RAISED)
    act(view, "review_objection", NOW, uphold=True, new_unit=C)
    assert (view.handling_unit, view.units, view.objection.suggested_unit) == (C, [A, C], B)


def test_a_unit_whose_objection_was_rejected_keeps_the_order_and_cannot_object_again():
    view = view_in(S.OBJECTION_RAISED)
    act(view, "review_objection", NOW, uphold=False)
    assert (view.status, view.handling_unit, view.units, view.objection.upheld) == (S.ACCEPTED, A, [A], False)
    assert refusal(view, "raise_objection", NOW) == "wrong_state"


@pytest.mark.parametrize(
    ("dispatched_at", "window_ends"),
    [
        (cst(2026, 11, 23, 9), cst(2026, 11, 24, 18)),  # Monday -> Tuesday close
        (cst(2026, 11, 27, 21), cst(2026, 11, 30, 18)),  # Friday evening -> over the weekend to Monday
        (cst(2026, 9, 30, 10), cst(2026, 10, 8, 18)),  # eve of National Day -> first working day after it
        (cst(2026, 10, 9, 10), cst(2026, 10, 10, 18)),  # Friday -> Saturday 10 Oct, a make-up working day
        (cst(2026, 9, 19, 10), cst(2026, 9, 20, 18)),  # Saturday -> Sunday 20 Sep, a make-up working day
    ],
)
@pytest.mark.parametrize("accepted", [False, True], ids=["dispatched", "accepted"])
def test_the_objection_window_is_one_working_day(dispatched_at, window_ends, accepted):
    view = dispatched(dispatched_at)
    if accepted:  # accepting does not give up the right to object, nor stretch the window
        act(view, "accept", dispatched_at + timedelta(minutes=5))
    assert view.limits["objection"].due == window_ends
    check(view, "raise_objection", command(view, "raise_objection"), window_ends)  # until the very close
    assert refusal(view, "raise_objection", window_ends + timedelta(minutes=1)) == "window_passed"


# --- clocks and extensions ------------------------------------------------------------------
def test_re_dispatch_restarts_every_clock_for_the_new_unit():
    view = dispatched()
    act(view, "raise_objection", T0 + timedelta(hours=1))
    fire_until(view, cst(2026, 11, 24, 9))  # the review takes a day: the first unit's contact limit passes
    assert view.limits["contact"].missed
    redo = cst(2026, 11, 24, 10)
    act(view, "review_objection", redo, uphold=True)
    assert view.dispatched_at == redo and view.contacted_at is None and view.extension is None
    assert {name: (lim.started_at, lim.due) for name, lim in view.limits.items()} == {
        "objection": (redo, cst(2026, 11, 25, 18)),
        "contact": (redo, cst(2026, 11, 25, 10)),
        "completion": (redo, cst(2026, 12, 1, 10)),
    }
    assert not any(lim.missed or lim.reminded for lim in view.limits.values())
    assert next_alarm(view, TERMS).name == "contact:reminder"


@pytest.mark.parametrize(
    ("approve", "extension", "urgency", "due"),
    [(True, "approved", Urgency.COMPLEX, cst(2026, 12, 8, 9)),
     (False, "rejected", Urgency.ORDINARY, cst(2026, 11, 30, 9))],
)
def test_an_extension_is_asked_once_and_an_approval_gives_fifteen_days_from_dispatch(approve, extension, urgency, due):
    view = view_in(S.CONTACTED)
    act(view, "request_extension", cst(2026, 11, 24, 9))
    assert refusal(view, "request_extension", cst(2026, 11, 24, 10)) == "wrong_state"  # one request at a time
    act(view, "review_extension", cst(2026, 11, 25, 9), approve=approve)
    assert (view.extension, view.urgency) == (extension, urgency)
    assert (view.limits["completion"].started_at, view.limits["completion"].due) == (T0, due)
    assert refusal(view, "request_extension", cst(2026, 11, 25, 10)) == "wrong_state"  # never a second time
    assert refusal(view, "review_extension", cst(2026, 11, 25, 10)) == "wrong_state"


@pytest.mark.parametrize(
    ("approved_at", "still_missed"),
    [(cst(2026, 12, 1, 9), False), (cst(2026, 12, 8, 9), False), (cst(2026, 12, 8, 9, 1), True)],
)
def test_a_late_approval_clears_the_missed_flag_only_while_the_new_limit_is_ahead(approved_at, still_missed):
    view = view_in(S.CONTACTED)
    act(view, "request_extension", cst(2026, 11, 24, 9))
    fire_until(view, cst(2026, 11, 30, 9))
    assert view.limits["completion"].missed and view.overdue and view.supervised
    act(view, "review_extension", approved_at)
    assert view.limits["completion"].missed is still_missed
    assert view.overdue is still_missed
    assert view.supervised  # supervision, once started, stays
    assert (next_alarm(view, TERMS) is None) is still_missed


@pytest.mark.parametrize("urgency", [Urgency.EMERGENCY, Urgency.UTILITY, Urgency.COMPLEX])
def test_only_ordinary_appeals_can_ask_for_more_time(urgency):
    assert refusal(view_in(S.CONTACTED, urgency), "request_extension", T0 + timedelta(hours=1)) == "wrong_state"


def test_a_pending_extension_cannot_be_approved_after_the_late_result_was_reported():
    view = view_in(S.CONTACTED)
    act(view, "request_extension", cst(2026, 11, 24, 9))
    fire_until(view, cst(2026, 11, 30, 9))
    act(view, "complete", cst(2026, 12, 2, 9), late_reason="custom parts arrived late")
    assert not view.limits["completion"].met_in_time
    # approving now would move the limit to 8 Dec and turn the late result into an in-time one
    assert refusal(view, "review_extension", cst(2026, 12, 3, 9)) == "wrong_state"


# --- alarms ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("urgency", "expected"),
    [
        (Urgency.EMERGENCY, [("contact:reminder", (11, 23, 10, 30)), ("completion:reminder", (11, 23, 10, 30)),
                             ("contact:missed", (11, 23, 11)), ("completion:missed", (11, 23, 11))]),
        (Urgency.UTILITY, [("contact:reminder", (11, 24, 3)), ("completion:reminder", (11, 24, 3)),
                           ("contact:missed", (11, 24, 9)), ("completion:missed", (11, 24, 9))]),
        (Urgency.ORDINARY, [("contact:reminder", (11, 24, 3)), ("contact:missed", (11, 24, 9)),
                            ("completion:reminder", (11, 28, 15)), ("completion:missed", (11, 30, 9))]),
        (Urgency.COMPLEX, [("contact:reminder", (11, 24, 3)), ("contact:missed", (11, 24, 9)),
                           ("completion:reminder", (12, 4, 15)), ("completion:missed", (12, 8, 9))]),
    ],
)
def test_a_reminder_at_three_quarters_of_each_limit_comes_before_the_limit(urgency, expected):
    view, seen = dispatched(urgency=urgency), []
    while (alarm := next_alarm(view, TERMS)) is not None:
        seen.append((alarm.name, alarm.at))
        fire(view, alarm, alarm.at)
    assert seen == [(name, cst(2026, *when)) for name, when in expected]


@pytest.mark.parametrize("urgency", list(Urgency))
def test_spread_reminders_come_after_their_point_by_at_most_half_an_hour_and_limits_never_move(urgency):
    def alarms(spread: bool) -> dict[str, datetime]:
        view, seen = dispatched(urgency=urgency), {}
        while (alarm := next_alarm(view, TERMS, spread=spread)) is not None:
            assert alarm == next_alarm(view, TERMS, spread=spread)  # the same every time (replay)
            seen[alarm.name] = alarm.at
            fire(view, alarm, alarm.at)
        return seen

    plain, moved = alarms(False), alarms(True)
    assert plain.keys() == moved.keys()
    for name, at in plain.items():
        if name.endswith(":missed"):
            assert moved[name] == at  # legal: never moved
        else:
            due = plain[name.replace(":reminder", ":missed")]
            assert timedelta(0) <= moved[name] - at <= min(REMINDER_SPREAD, (due - at) / 5)


def test_orders_dispatched_together_are_reminded_over_the_spread_not_in_one_minute():
    times = []
    for i in range(2000):
        view = dispatched()
        view.appeal_no = f"BJ20261123{i:06d}"
        times.append(next_alarm(view, TERMS, spread=True).at)
    point = next_alarm(dispatched(), TERMS).at
    assert min(times) >= point and max(times) - point <= REMINDER_SPREAD
    per_minute = Counter(int((t - point).total_seconds() // 60) for t in times)
    assert len(per_minute) == 30 and max(per_minute.values()) < 2000 / 30 * 1.5  # about even


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (S.RECEIVED, None),  # held: no unit, no clock
        (S.CLOSED, None),
        (S.DISPATCHED, ("contact:reminder", cst(2026, 11, 24, 3))),
        (S.OBJECTION_RAISED, ("contact:reminder", cst(2026, 11, 24, 3))),  # the clock runs during the review
        (S.CONTACTED, ("completion:reminder", cst(2026, 11, 28, 15))),  # contact made: its alarms stop
        (S.ANSWERED, ("return_visit:missed", cst(2026, 11, 30, 18))),
        (S.AWAITING_EVALUATION, ("return_visit:missed", cst(2026, 11, 30, 18))),  # 5 working days
        (S.REHANDLING, ("contact:reminder", cst(2026, 11, 24, 3, 40))),  # fresh round from 09:40
    ],
)
def test_the_next_alarm_depends_on_where_the_order_is(status, expected):
    alarm = next_alarm(view_in(status), TERMS)
    assert (alarm and (alarm.name, alarm.at)) == expected


@pytest.mark.parametrize(
    ("fields", "outcome", "detail"),
    [
        ({"decision": IntakeDecision.NOT_ACCEPTED, "not_accepted_reason": NotAcceptedReason.PETITION},
         Outcome.NOT_ACCEPTED, {"reason": "petition", "channel": RIGHT_CHANNEL[NotAcceptedReason.PETITION]}),
        ({"decision": IntakeDecision.EMERGENCY, "emergency_service": EmergencyService.FIRE},
         Outcome.EMERGENCY_TRANSFERRED, {"service": "119"}),
    ],
)
def test_orders_closed_at_intake_say_where_the_citizen_goes_and_set_no_alarm(fields, outcome, detail):
    view, drafts = open_appeal(intake(**fields), T0, TERMS)
    assert (view.status, view.outcome, view.resolved, drafts[-1].detail) == (S.CLOSED, outcome, None, detail)
    assert next_alarm(view, TERMS) is None


def test_a_missed_limit_marks_the_order_overdue_and_sends_it_to_supervision():
    view = dispatched()
    reminder = next_alarm(view, TERMS)
    assert [d.kind for d in fire(view, reminder, reminder.at)] == ["reminder"]
    assert view.limits["contact"].reminded and not view.overdue and not view.supervised
    missed = next_alarm(view, TERMS)
    drafts = fire(view, missed, missed.at)
    assert [(d.kind, d.unit, d.detail["limit"]) for d in drafts] == [
        ("limit_missed", A, "contact"), ("escalated", A, "contact")]
    assert view.limits["contact"].missed and view.overdue and view.supervised
    assert view.status is S.DISPATCHED  # still with the unit


@pytest.mark.parametrize("status", [S.AWAITING_EVALUATION, S.ANSWERED])
def test_no_evaluation_within_the_return_visit_window_closes_as_not_evaluated(status):
    view = view_in(status)
    alarm = next_alarm(view, TERMS)
    assert [d.kind for d in fire(view, alarm, alarm.at)] == ["closed"]
    assert (view.status, view.outcome, view.resolved) == (S.CLOSED, Outcome.NOT_EVALUATED, None)
    assert view.closed_at == alarm.at


def test_a_not_evaluated_close_after_re_handling_carries_no_evaluation():
    view = view_in(S.REHANDLING)
    act(view, "record_contact", NOW)
    act(view, "complete", NOW)
    fire_until(view, cst(2026, 12, 31))
    assert view.outcome is Outcome.NOT_EVALUATED
    assert (view.resolved, view.satisfaction) == (None, None)


# --- evaluation -----------------------------------------------------------------------------
def test_unresolved_goes_back_to_the_same_unit_with_fresh_limits_until_the_re_handling_limit():
    view, at = view_in(S.AWAITING_EVALUATION), cst(2026, 11, 25, 10)
    for round_no in range(1, TERMS.max_rehandles + 1):
        kinds = [d.kind for d in act(view, "evaluate", at, **UNRESOLVED)]
        assert kinds == ["evaluated", "rehandling"]
        assert (view.status, view.rehandle_count, view.handling_unit) == (S.REHANDLING, round_no, A)
        assert view.contacted_at is None and "return_visit" not in view.limits
        assert (view.limits["contact"].started_at, view.limits["contact"].due) == (at, at + timedelta(hours=24))
        assert view.limits["completion"].due == at + timedelta(days=7)
        assert view.reply_deadline == at + timedelta(hours=24)
        act(view, "record_contact", at + timedelta(hours=1))
        act(view, "complete", at + timedelta(hours=2))
        at += timedelta(days=2)
    assert [d.kind for d in act(view, "evaluate", at, **UNRESOLVED)] == ["evaluated", "closed"]
    assert (view.status, view.outcome, view.resolved) == (S.CLOSED, Outcome.UNRESOLVED, False)


def test_an_immediate_answer_evaluated_unresolved_closes_there_being_no_unit_to_send_it_back_to():
    view = view_in(S.ANSWERED)
    act(view, "evaluate", NOW, actor=OPERATOR, **UNRESOLVED)  # an operator may record the citizen's answer
    assert (view.status, view.outcome, view.resolved, view.rehandle_count) == (S.CLOSED, Outcome.UNRESOLVED, False, 0)


@pytest.mark.parametrize("resolved", [True, False])
@pytest.mark.parametrize("status", [S.AWAITING_EVALUATION, S.ANSWERED])
def test_an_order_counts_as_resolved_only_when_the_citizen_said_so(status, resolved):
    view, no_rehandling = view_in(status), TERMS.model_copy(update={"max_rehandles": 0})
    act(view, "evaluate", NOW, terms=no_rehandling, resolved=resolved, satisfaction=Satisfaction.BASICALLY_SATISFIED)
    assert (view.status, view.rehandle_count) == (S.CLOSED, 0)
    assert view.resolved is resolved
    assert (view.outcome is Outcome.RESOLVED) is resolved


# --- intake ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("decision", "fields", "accepted"),
    [
        (IntakeDecision.ANSWER, {}, False), (IntakeDecision.ANSWER, {"answer": ""}, False),
        (IntakeDecision.ANSWER, {"answer": "see the notice"}, True),
        (IntakeDecision.NOT_ACCEPTED, {}, False),
        (IntakeDecision.NOT_ACCEPTED, {"not_accepted_reason": NotAcceptedReason.LITIGATION}, True),
        (IntakeDecision.EMERGENCY, {}, False),
        (IntakeDecision.EMERGENCY, {"emergency_service": EmergencyService.AMBULANCE}, True),
        (IntakeDecision.DISPATCH, {"district": None}, False), (IntakeDecision.DISPATCH, {}, True),
        (IntakeDecision.DISPATCH, {"district": None, "unit": A}, True), (IntakeDecision.HOLD, {"district": None}, True),
    ],
)
def test_intake_must_say_what_its_decision_needs(decision, fields, accepted):
    inp = intake(decision, **fields)
    if accepted:
        validate_intake(inp)
    else:
        with pytest.raises(Refused) as refused:
            validate_intake(inp)
        assert refused.value.code == "invalid"


# --- the deadline the unit works against ------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "limit"),
    [
        (S.DISPATCHED, "contact"), (S.ACCEPTED, "contact"), (S.OBJECTION_RAISED, "contact"),
        (S.REHANDLING, "contact"), (S.CONTACTED, "completion"), (S.IN_PROGRESS, "completion"),
        (S.RECEIVED, None), (S.ANSWERED, None), (S.AWAITING_EVALUATION, None), (S.CLOSED, None),
    ],
)
def test_reply_deadline_is_contact_until_contacted_then_completion(status, limit):
    view = view_in(status)
    assert view.reply_deadline == (view.limits[limit].due if limit else None)


def test_a_late_result_or_phased_report_must_give_the_reason():
    view = view_in(S.CONTACTED)
    late = view.limits["completion"].due + timedelta(hours=1)
    assert refusal(view, "complete", late) == "invalid"
    assert refusal(view, "phased_report", late) == "invalid"
    act(view, "phased_report", late, reason="waiting for parts")
    act(view, "complete", late, late_reason="waiting for parts")
    assert view.status is S.AWAITING_EVALUATION


def test_a_late_order_sent_back_for_re_handling_is_on_time_again():
    view = view_in(S.CONTACTED)
    late = view.limits["completion"].due + timedelta(hours=1)
    fire_until(view, late)
    assert view.overdue and view.limits["completion"].missed
    act(view, "complete", late, late_reason="waiting for parts")
    act(view, "evaluate", late + timedelta(hours=1), **UNRESOLVED)
    assert view.status is S.REHANDLING
    assert not view.overdue  # the unit is on the fresh limits of this round
    assert view.supervised  # the escalation happened all the same
    fire_until(view, view.limits["contact"].due)
    assert view.overdue  # and misses them like any other round
