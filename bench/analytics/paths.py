"""Which life an appeal lives: the intake decision, then the unit's handling as a script of staff
actions with realistic delays — accept or object, contact the citizen (in time or late), phased
reports, extensions, co-handling and whistles, report done (in time or late), the return visit
(resolved or not, satisfied or not, or never evaluated), re-handling — played through `Life`,
which applies the real rules and fires the timers in between. How well each unit does is its
`unit_quality`; how hard each problem is, `mix.DIFFICULTY`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from bench.analytics import texts
from bench.analytics.life import Life
from bench.analytics.mix import DIFFICULTY
from bench.analytics.world import World
from domain import collaboration as more
from domain.messages import (
    Actor,
    AppealAcceptInput,
    AppealAnswerInput,
    AppealCompleteInput,
    AppealDispatchInput,
    AppealEvaluateInput,
    AppealInput,
    AppealStatus,
    ContactRecordInput,
    ExtensionRequestInput,
    ExtensionReviewInput,
    IntakeDecision,
    ObjectionRaiseInput,
    ObjectionReviewInput,
    PartAcceptInput,
    PartKind,
    PartReportInput,
    PhasedReportInput,
    Satisfaction,
)
from domain.types import Role, UnitKind, Urgency

S = AppealStatus
H = timedelta(hours=1)


@dataclass
class Extra:
    """What the spec adds to the workflow input: things the operator does right after intake."""

    master_no: str | None = None  # link as related to this earlier appeal at the same place
    transfer_out: str | None = None  # tianjin | hebei


@cache
def staff(unit: str, k: int) -> Actor:
    return Actor(user=f"{unit.lower()}-{k}", role=Role.UNIT_STAFF, unit=unit)


@cache
def operator(k: int) -> Actor:
    return Actor(user=f"hotline-op-{k:03d}", role=Role.OPERATOR)


@cache
def supervisor(district: str | None, k: int) -> Actor:
    return Actor(user=f"supervisor-{district or 'city'}-{k}", role=Role.SUPERVISOR)


CITIZEN = Actor.citizen()


def hours(rng: random.Random, median: float, sigma: float = 0.8) -> timedelta:
    return timedelta(hours=median * rng.lognormvariate(0, sigma))


@dataclass
class Skill:
    contact_in_time: float
    late: float
    resolve: float
    satisfied: float


def skill(quality: float, category: str) -> Skill:
    return Skill(
        contact_in_time=0.93 + 0.065 * quality,
        late=0.005 + 0.06 * (1 - quality),
        resolve=DIFFICULTY.get(category, 0.95) * (0.8 + 0.22 * quality),
        satisfied=0.62 + 0.3 * quality,
    )


def live(inp: AppealInput, extra: Extra, world: World, rng: random.Random, as_of: datetime, quality) -> Life:
    """Run the appeal from intake until it closes or `as_of` comes."""
    life = Life(inp, world.terms[inp.appeal_type], as_of)
    t = inp.received_at + timedelta(milliseconds=rng.randint(40, 400))
    routed = world.route(inp.category, inp.district, inp.street) if inp.decision is IntakeDecision.DISPATCH else None
    life.start(t, routed)
    op = inp.operator
    if extra.master_no:
        t += timedelta(minutes=rng.randint(3, 90))
        life.act(t, "link", more.LinkInput(actor=op, master_no=extra.master_no, kind="related", master_open=False))
    if extra.transfer_out:
        t += hours(rng, 1.5)
        life.act(t, "transfer_out", more.TransferOutInput(actor=op, hotline=extra.transfer_out,
                                                          reason="诉求地点在外省市", external_no=None))
    match inp.decision:
        case IntakeDecision.ANSWER:
            _return_visit(life, rng, t, resolve=0.93, satisfied=0.85, visited=0.7)
        case IntakeDecision.HOLD:
            t += hours(rng, 2.0)
            if rng.random() < 0.85:
                unit = world.route(inp.category, inp.district, inp.street)
                if life.act(t, "dispatch", AppealDispatchInput(actor=op, unit=unit)):
                    _handle(life, world, rng, t, quality)
            elif life.act(t, "answer", AppealAnswerInput(actor=op, answer=rng.choice(texts.ANSWERS))):
                _return_visit(life, rng, t, resolve=0.9, satisfied=0.8, visited=0.7)
        case IntakeDecision.DISPATCH if life.view.status is S.DISPATCHED:
            _handle(life, world, rng, t, quality)
    life.finish()
    return life


def _handle(life: Life, world: World, rng: random.Random, t: datetime, quality) -> None:
    view = life.view
    objected = False
    while view.status is S.DISPATCHED and not life.closed:
        unit = view.handling_unit
        sk = skill(quality(unit), view.category)
        start = view.dispatched_at
        me = staff(unit, rng.randint(1, 3))
        if not objected and rng.random() < (0.08 if view.category in ("MUNI.STREETLIGHT", "UTIL.HEAT.NOHEAT") else 0.03):
            objected = True
            window = view.limits["objection"].due - start
            t = start + window * rng.uniform(0.05, 0.8)
            suggested = _another_unit(world, view, rng)
            if suggested and life.act(t, "raise_objection", ObjectionRaiseInput(
                    actor=me, reason=rng.choice(texts.OBJECTIONS), suggested_unit=suggested)):
                t += hours(rng, 3.0)
                upheld = rng.random() < 0.55
                if not life.act(t, "review_objection", ObjectionReviewInput(actor=life.inp.operator, uphold=upheld)):
                    return
                continue  # upheld: dispatched again; rejected: accepted, on to the contact
        t = start + _accept_delay(rng, view.urgency)
        if not life.act(t, "accept", AppealAcceptInput(actor=me)):
            return
    if view.status is not S.ACCEPTED or life.closed:
        return
    rounds = 0
    while not life.closed:
        unit = view.handling_unit
        sk = skill(quality(unit), view.category)
        me = staff(unit, rng.randint(1, 3))
        contact = view.limits["contact"]
        span = contact.due - contact.started_at
        if rng.random() < sk.contact_in_time:
            when = contact.started_at + span * (0.98 * rng.betavariate(1.4, 3.5))
        else:
            when = contact.due + span * rng.lognormvariate(-0.7, 0.8)
        t = max(when, t + timedelta(minutes=rng.randint(2, 30)))
        if not life.act(t, "record_contact", ContactRecordInput(actor=me, note=rng.choice(texts.NOTES))):
            return
        t = _work(life, world, rng, t, sk, me, first_round=rounds == 0)
        if t is None or life.closed or view.status is not S.AWAITING_EVALUATION:
            return
        resolve = sk.resolve * (1.0, 0.85, 0.7)[min(rounds, 2)]
        _return_visit(life, rng, t, resolve=resolve, satisfied=sk.satisfied, visited=0.93)
        if view.status is not S.REHANDLING:
            return
        rounds += 1
        t = view.limits["contact"].started_at


def _work(life: Life, world: World, rng: random.Random, t: datetime, sk: Skill, me: Actor, first_round: bool):
    """From contact to reported done (or stuck). Returns when it was reported done, or None."""
    view = life.view
    completion = view.limits["completion"]
    span = completion.due - completion.started_at
    if first_round and view.urgency is Urgency.ORDINARY and rng.random() < 0.004:
        return _stuck(life, rng, t, me)
    if first_round and view.urgency is Urgency.ORDINARY and rng.random() < 0.03:
        t += hours(rng, 40)
        if life.act(t, "request_extension", ExtensionRequestInput(actor=me, reason=rng.choice(texts.LATE_REASONS))):
            t += hours(rng, 5)
            life.act(t, "review_extension", ExtensionReviewInput(actor=life.inp.operator, approve=rng.random() < 0.85))
            completion = view.limits["completion"]
            span = completion.due - completion.started_at
    if first_round and rng.random() < _parts_share(view.category):
        t = _parts(life, world, rng, t, me)
        if t is None:
            return None
    late = rng.random() < sk.late
    left = completion.due - t
    if late or left <= span * 0.02:
        done = max(completion.due, t) + span * rng.lognormvariate(-1.6, 0.9)
    else:  # in time: somewhere in what is left of the limit, rarely at the last minute
        done = t + left * (0.02 + 0.96 * rng.betavariate(1.6, 2.6))
    if view.urgency in (Urgency.ORDINARY, Urgency.COMPLEX) and rng.random() < 0.12:
        mid = t + (done - t) * rng.uniform(0.4, 0.8)
        past = mid > completion.due
        life.act(mid, "phased_report", PhasedReportInput(
            actor=me, progress=rng.choice(texts.PROGRESS), reason=rng.choice(texts.LATE_REASONS) if past else None))
    if done > completion.due and rng.random() < 0.35:
        sup = completion.due + (done - completion.due) * rng.uniform(0.1, 0.6)
        escalate = rng.random() < 0.15
        life.act(sup, "supervise", more.SuperviseInput(
            actor=supervisor(view.district if not escalate else None, rng.randint(1, 2)),
            note="请加快办理进度，按时反馈", escalate=escalate))
    late_reason = rng.choice(texts.LATE_REASONS) if done > completion.due else None
    result = texts.result_for(rng, view.category)
    if not life.act(done, "complete", AppealCompleteInput(actor=me, result=result, late_reason=late_reason)):
        return None
    return done


def _stuck(life: Life, rng: random.Random, t: datetime, me: Actor) -> None:
    """A hard case: phased reports month after month, never done (yet)."""
    while True:
        t += timedelta(days=rng.uniform(8, 25))
        past = t > life.view.limits["completion"].due
        if not life.act(t, "phased_report", PhasedReportInput(
                actor=me, progress=rng.choice(texts.PROGRESS), reason=rng.choice(texts.LATE_REASONS) if past else None)):
            return None


def _parts_share(category: str) -> float:
    if category in ("MUNI.DEADENDROAD", "HOUSING.OLDCOMMUNITY", "CITY.ILLEGALBUILD", "HOUSING.ELEVATOR"):
        return 0.25
    return 0.012


def _parts(life: Life, world: World, rng: random.Random, t: datetime, me: Actor):
    view = life.view
    lead = world.units[view.handling_unit]
    district = view.district
    departments = [u for u in world.district_units(district, (UnitKind.DISTRICT_DEPARTMENT,)) if u != lead.code] if district else []
    if not departments:
        return t
    whistle = lead.kind in (UnitKind.STREET, UnitKind.TOWNSHIP) and rng.random() < 0.5
    kind = PartKind.WHISTLE if whistle else PartKind.CO_HANDLING
    units = rng.sample(departments, min(len(departments), rng.randint(1, 3 if whistle else 2)))
    t += hours(rng, 6)
    task = "请协同处置：" + texts.result_for(rng, view.category)
    if not life.act(t, "request_parts", more.PartsRequestInput(actor=me, kind=kind, units=units, task=task)):
        return t
    steps = []  # each unit works at its own pace: their actions interleave
    for unit in units:
        part = life.view.parts[f"{kind.value}:{unit}"]
        them = staff(unit, 1)
        accepted = t + hours(rng, 5)
        plan = "负责现场勘查和方案制定" if whistle else None
        steps.append((accepted, unit, "accept", PartAcceptInput(actor=them, plan=plan)))
        done = accepted + hours(rng, 30)
        late_reason = rng.choice(texts.LATE_REASONS) if done > part.due else None
        steps.append((done, unit, "report", PartReportInput(actor=them, result="已完成本单位承担部分", late_reason=late_reason)))
    steps.sort(key=lambda s: s[0])
    for at, unit, action, cmd in steps:
        life.part_act(at, kind, unit, action, cmd)
    last = steps[-1][0]
    if whistle:
        for unit in units:
            last += timedelta(minutes=rng.randint(5, 120))
            life.act(last, "rate_part", more.PartRateInput(actor=me, unit=unit, rating=rng.choice((3, 4, 4, 5, 5, 5))))
    if life.closed or life.now >= life.as_of:
        return None
    return last


def _return_visit(life: Life, rng: random.Random, t: datetime, *, resolve: float, satisfied: float, visited: float) -> None:
    """The hotline calls back (or the citizen evaluates) — or nobody answers and the window closes."""
    if rng.random() >= visited:
        return
    t += hours(rng, 22, 0.9)
    resolved = rng.random() < resolve
    r = rng.random()
    if resolved:
        sat = Satisfaction.SATISFIED if r < satisfied else Satisfaction.BASICALLY_SATISFIED if r < 0.97 else Satisfaction.UNSATISFIED
    else:
        sat = Satisfaction.UNSATISFIED if r < 0.74 else Satisfaction.BASICALLY_SATISFIED if r < 0.96 else Satisfaction.SATISFIED
    who = CITIZEN if rng.random() < 0.1 else life.inp.operator
    life.act(t, "evaluate", AppealEvaluateInput(actor=who, resolved=resolved, satisfaction=sat))


def _accept_delay(rng: random.Random, urgency: Urgency) -> timedelta:
    median = {Urgency.EMERGENCY: 0.15, Urgency.UTILITY: 0.6}.get(urgency, 2.5)
    return hours(rng, median, 1.0)


def _another_unit(world: World, view, rng: random.Random) -> str | None:
    options = []
    if view.district:
        options.append(world.directory.backstops.get(view.district))
        options.append(f"{view.district}-CGW")
    if view.street:
        options.append(view.street)
    options = [u for u in options if u and u in world.units and u != view.handling_unit]
    return rng.choice(options) if options else None
