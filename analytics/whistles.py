"""The dual assessment of whistle-summoning (街乡吹哨、部门报到): how the departments a street
summoned answered, over the parts summoned in a period (Beijing days, by `requested_at`).

A part is one department summoned to one appeal (`appeal_part`, kind `whistle`; a department
summoned again to the same appeal is its latest summons). For each department:

- *parts* — summoned in the period;
- *reported in in time* — reported in (报到, `accepted_at`) no later than the report-in limit;
  *awaiting report-in* — not reported in, still open and the report-in limit not yet passed:
  out of the report-in base; every other part (reported in late, or never, its limit passed or
  the part closed or declined) counts against it;
- report-in rate = reported in in time ÷ (parts − awaiting report-in);
- *done in time* — reported done no later than the part's own limit (`due`);
  *not done* — declined (awaiting the hotline's review), closed (declined and upheld, closed by
  the street, the appeal closed) or failed, without being done: out of the done base, shown
  beside it; *pending* — still open and within its limit: out of the done base too;
- done rate = done in time ÷ (parts − not done − pending);
- average rating = the mean of the street's ratings (1–5) over the rated parts.

The report-in limit is the one the workflow set when the department was summoned: read from the
appeal's projected state (`state.parts["whistle:<unit>"].report_in_due`), else from the
`whistle_blown` event that summoned it. A part with no report-in limit known reports in in time
whenever it reports in, as the workflow judges it. The street that summoned is the unit that blew
the whistle (that event's unit), else the appeal's handling unit.

Figures are read live from the parts: the monthly assessment does not freeze them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from analytics.periods import Period
from domain.events import EventKind

_OPEN = ("requested", "accepted", "declined")
_WORKING = ("requested", "accepted")  # open and not declined
_NOT_DONE = ("declined", "closed", "failed")

_part = sa.table(
    "appeal_part",
    *(sa.column(c) for c in ("appeal_no", "unit_code", "kind", "status", "requested_at", "due", "accepted_at",
                             "done_at", "rating")),
)
_appeal = sa.table(
    "appeal", sa.column("appeal_no"), sa.column("district_code"), sa.column("handling_unit_code"),
    sa.column("state", JSONB),
)
_event = sa.table(
    "appeal_event", sa.column("appeal_no"), sa.column("seq"), sa.column("kind"), sa.column("unit_code"),
    sa.column("detail", JSONB),
)


class Measure(StrEnum):
    """What a drill-down lists: the parts behind one figure."""

    PARTS = "parts"
    REPORTED_IN_IN_TIME = "reported_in_in_time"
    REPORTED_IN_LATE = "reported_in_late"  # late or not at all, its limit passed
    AWAITING_REPORT_IN = "awaiting_report_in"
    DONE_IN_TIME = "done_in_time"
    DONE_LATE = "done_late"  # done late, or not done and its limit passed
    NOT_DONE = "not_done"
    PENDING = "pending"
    RATED = "rated"


class Order(StrEnum):
    """How departments are listed and ranked (best or busiest first)."""

    PARTS = "parts"
    REPORT_IN_RATE = "report_in_rate"
    DONE_RATE = "done_rate"
    RATING = "rating"


@dataclass(frozen=True)
class Filters:
    unit: str | None = None  # the department summoned
    district: str | None = None  # the appeal's district
    street: str | None = None  # the street that summoned


@dataclass
class Counts:
    parts: int = 0
    reported_in: int = 0
    reported_in_in_time: int = 0
    awaiting_report_in: int = 0
    done: int = 0
    done_in_time: int = 0
    not_done: int = 0
    pending: int = 0
    rated: int = 0
    rating_sum: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def report_in_base(self) -> int:
        return self.parts - self.awaiting_report_in

    @property
    def done_base(self) -> int:
        return self.parts - self.not_done - self.pending

    def to_json(self) -> dict[str, int]:
        out = asdict(self)
        del out["rating_sum"]
        return out | {"report_in_base": self.report_in_base, "done_base": self.done_base}


@dataclass(frozen=True)
class Rates:
    report_in: float | None  # None: nothing in the base
    done: float | None
    rating: float | None  # the average rating; None: none rated

    @classmethod
    def of(cls, c: Counts) -> Rates:
        def ratio(a: int, b: int) -> float | None:
            return a / b if b else None

        return cls(ratio(c.reported_in_in_time, c.report_in_base), ratio(c.done_in_time, c.done_base),
                   ratio(c.rating_sum, c.rated))

    def to_json(self) -> dict[str, float | None]:
        return {k: (None if v is None else round(v, 6)) for k, v in asdict(self).items()}


# --- the parts, with what each counts as --------------------------------------------------------


def _parts(period: Period, f: Filters) -> sa.Subquery:
    """The whistle parts summoned in the period, with the street that summoned and the
    report-in limit."""
    p, a, e = _part, _appeal, _event
    blown = (
        sa.select(e.c.unit_code.label("street"), e.c.detail["report_in_due"].astext.label("report_in_due"))
        .where(e.c.appeal_no == p.c.appeal_no, e.c.kind == EventKind.WHISTLE_BLOWN.value, e.c.detail["units"].has_key(p.c.unit_code))
        .order_by(e.c.seq.desc())
        .limit(1)
        .lateral("blown")
    )
    in_state = sa.func.jsonb_extract_path_text(a.c.state, "parts", sa.literal("whistle:") + p.c.unit_code,
                                                "report_in_due")
    start, end = period.bounds()
    q = (
        sa.select(
            p.c.appeal_no,
            p.c.unit_code.label("unit"),
            a.c.district_code.label("district"),
            sa.func.coalesce(blown.c.street, a.c.handling_unit_code).label("street"),
            p.c.status,
            p.c.requested_at,
            sa.cast(sa.func.coalesce(in_state, blown.c.report_in_due), sa.DateTime(timezone=True)).label("report_in_due"),
            p.c.accepted_at.label("reported_in_at"),
            p.c.due,
            p.c.done_at,
            p.c.rating,
        )
        .select_from(p.join(a, a.c.appeal_no == p.c.appeal_no).outerjoin(blown, sa.true()))
        .where(p.c.kind == "whistle", p.c.requested_at >= start, p.c.requested_at < end)
    )
    if f.unit is not None:
        q = q.where(p.c.unit_code == f.unit)
    if f.district is not None:
        q = q.where(a.c.district_code == f.district)
    return q.subquery("part")


@dataclass(frozen=True)
class _Flags:
    """The definitions above, as conditions on one row of `_parts` at `now`."""

    reported_in: Any
    reported_in_in_time: Any
    awaiting_report_in: Any
    done: Any
    done_in_time: Any
    not_done: Any
    pending: Any
    rated: Any

    @classmethod
    def of(cls, q: Any, now: datetime) -> _Flags:
        reported_in = q.c.reported_in_at.is_not(None)
        done = q.c.status == "done"
        return cls(
            reported_in=reported_in,
            reported_in_in_time=sa.and_(reported_in,
                                        sa.or_(q.c.report_in_due.is_(None), q.c.reported_in_at <= q.c.report_in_due)),
            awaiting_report_in=sa.and_(~reported_in, q.c.status.in_(_OPEN),
                                       sa.or_(q.c.report_in_due.is_(None), q.c.report_in_due > now)),
            done=done,
            done_in_time=sa.and_(done, q.c.done_at <= q.c.due),
            not_done=q.c.status.in_(_NOT_DONE),
            pending=sa.and_(q.c.status.in_(_WORKING), q.c.due > now),
            rated=q.c.rating.is_not(None),
        )

    def measure(self, m: Measure) -> Any:
        return {
            Measure.PARTS: sa.true(),
            Measure.REPORTED_IN_IN_TIME: self.reported_in_in_time,
            Measure.REPORTED_IN_LATE: sa.and_(~self.awaiting_report_in, ~self.reported_in_in_time),
            Measure.AWAITING_REPORT_IN: self.awaiting_report_in,
            Measure.DONE_IN_TIME: self.done_in_time,
            Measure.DONE_LATE: sa.and_(~self.not_done, ~self.pending, ~self.done_in_time),
            Measure.NOT_DONE: self.not_done,
            Measure.PENDING: self.pending,
            Measure.RATED: self.rated,
        }[m]


def _street(q: Any, f: Filters) -> list[Any]:
    return [] if f.street is None else [q.c.street == f.street]


async def counts_by_unit(conn: AsyncConnection, period: Period, filters: Filters, *, now: datetime) -> dict[str, Counts]:
    """Counts per department summoned in the period."""
    q = _parts(period, filters)
    flag = _Flags.of(q, now)
    stmt = (
        sa.select(
            q.c.unit,
            sa.func.count(),
            *(sa.func.count().filter(getattr(flag, n)) for n in ("reported_in", "reported_in_in_time",
                                                                   "awaiting_report_in", "done", "done_in_time",
                                                                   "not_done", "pending", "rated")),
            sa.func.coalesce(sa.func.sum(q.c.rating), 0),
        )
        .where(*_street(q, filters))
        .group_by(q.c.unit)
    )
    return {unit: Counts(*values) for unit, *values in await conn.execute(stmt)}


async def drilldown(
    conn: AsyncConnection, period: Period, measure: Measure, filters: Filters, *, now: datetime, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """The parts behind one figure: (how many, one page of them by summons time). Each says
    whether it reported in and was done in time (None: not yet known, or not done)."""
    q = _parts(period, filters)
    flag = _Flags.of(q, now)
    judged_in = sa.case((flag.reported_in_in_time, True), (flag.awaiting_report_in, sa.null()), else_=False)
    judged_done = sa.case((flag.done_in_time, True), (sa.or_(flag.not_done, flag.pending), sa.null()), else_=False)
    rows = sa.select(
        q.c.appeal_no, q.c.unit, q.c.district, q.c.street, q.c.status, q.c.requested_at, q.c.report_in_due,
        q.c.reported_in_at, judged_in.label("reported_in_in_time"), q.c.due, q.c.done_at,
        judged_done.label("done_in_time"), q.c.rating,
    ).where(flag.measure(measure), *_street(q, filters))
    page = rows.subquery()
    total = await conn.scalar(sa.select(sa.func.count()).select_from(page))
    result = await conn.execute(
        sa.select(page).order_by(page.c.requested_at, page.c.appeal_no, page.c.unit).limit(limit).offset(offset)
    )
    return total or 0, [dict(r._mapping) for r in result]


# --- ranking -------------------------------------------------------------------------------------


@dataclass
class Ranked:
    unit: str
    counts: Counts
    rates: Rates
    rank: int | None  # None: nothing to rank on (no base, or none rated)


def _score(order: Order, c: Counts, r: Rates) -> float | None:
    return {
        Order.PARTS: float(c.parts),
        Order.REPORT_IN_RATE: r.report_in,
        Order.DONE_RATE: r.done,
        Order.RATING: r.rating,
    }[order]


def rank(counts: dict[str, Counts], order: Order = Order.PARTS) -> list[Ranked]:
    """Departments by `order`, highest first (then by parts, then by code); equal values share a
    rank (1, 2, 2, 4...). Those with nothing to rank on are listed after, unranked."""
    rows = [Ranked(u, c, Rates.of(c), None) for u, c in counts.items()]
    scored = sorted(
        (r for r in rows if _score(order, r.counts, r.rates) is not None),
        key=lambda r: (-round(_score(order, r.counts, r.rates), 9), -r.counts.parts, r.unit),
    )
    for i, r in enumerate(scored):
        value = round(_score(order, r.counts, r.rates), 9)
        same = i > 0 and round(_score(order, scored[i - 1].counts, scored[i - 1].rates), 9) == value
        r.rank = scored[i - 1].rank if same else i + 1
    rest = sorted((r for r in rows if r.rank is None), key=lambda r: (-r.counts.parts, r.unit))
    return scored + rest
