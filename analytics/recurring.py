"""Recurring problems (反复出现的问题): the same category at the same place coming back within N
days after an appeal there was closed as resolved — the weeds that grew back.

"The same place" is the same street and the same address, or, when both appeals carry
coordinates, a distance of at most `RADIUS_M` (200 m). Whether an appeal came back is known the
moment it is received: the earlier appeal was closed before it came in. So it is worked out
once, at intake (analytics/intake.py, in the intake's transaction) or in bulk (`fill_returns`,
`backfill_returns`): `appeal_return` keeps, for each appeal, the latest appeal of its category
resolved at its place within a year before, by address and by distance. The latest one is
enough: for any N, an appeal came back within N days exactly when the latest resolution before
it is that recent.

Appeals linked by coming back are one recurring problem (A resolved → B → B resolved → C ...),
named by the appeal its chain starts from (`problem_no`), so that a period's problems are
counted, ordered and paged in the database however many there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from analytics.hotspots import Filters, as_connection
from analytics.periods import Period

DEFAULT_WITHIN_DAYS = 90
#: The longest gap looked back over, and so the largest N a query may ask for.
MAX_WITHIN_DAYS = 365
#: Two points this close (metres) are the same place.
RADIUS_M = 200.0

_EARTH_M = 6_371_008.8
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


def _haversine(a: str, b: str) -> str:
    return (
        f"2 * {_EARTH_M} * asin(sqrt(power(sin(radians({a}.latitude - {b}.latitude) / 2), 2)"
        f" + cos(radians({a}.latitude)) * cos(radians({b}.latitude))"
        f" * power(sin(radians({a}.longitude - {b}.longitude) / 2), 2)))"
    )


# For each appeal b: the latest appeal of its category resolved at its address (a), and near its
# point (within RADIUS_M, looked up in a box of latitude × longitude first), within a year before.
# The problem starts as that appeal; _join_problems then follows it back to where its chain starts.
_FILL = sa.text(f"""
INSERT INTO appeal_return (appeal_no, matched_by, previous_no, previous_closed_at, problem_no, distance_m,
                           received_at, category_code, district_code, street_code)
SELECT b.appeal_no, 'address', p.appeal_no, p.closed_at, p.appeal_no, NULL,
       b.received_at, b.category_code, b.district_code, b.street_code
FROM appeal b
CROSS JOIN LATERAL (
    SELECT a.appeal_no, a.closed_at FROM appeal a
    WHERE a.outcome = 'resolved' AND a.location_address IS NOT NULL
      AND a.category_code = b.category_code AND a.street_code = b.street_code
      AND a.location_address = b.location_address
      AND a.closed_at < b.received_at AND a.closed_at >= b.received_at - interval '{MAX_WITHIN_DAYS} days'
    ORDER BY a.closed_at DESC LIMIT 1
) p
WHERE b.appeal_no = ANY(CAST(:nos AS text[])) AND b.street_code IS NOT NULL AND b.location_address IS NOT NULL
UNION ALL
SELECT b.appeal_no, 'radius', p.appeal_no, p.closed_at, p.appeal_no, p.distance_m,
       b.received_at, b.category_code, b.district_code, b.street_code
FROM appeal b
CROSS JOIN LATERAL (
    SELECT a.appeal_no, a.closed_at, {_haversine("a", "b")} AS distance_m FROM appeal a
    WHERE a.outcome = 'resolved' AND a.latitude IS NOT NULL AND a.longitude IS NOT NULL
      AND a.category_code = b.category_code
      AND a.latitude BETWEEN b.latitude - {RADIUS_M / _M_PER_DEG_LAT} AND b.latitude + {RADIUS_M / _M_PER_DEG_LAT}
      AND abs(a.longitude - b.longitude)
          <= {RADIUS_M / _M_PER_DEG_LON_EQUATOR} / greatest(cos(radians(b.latitude)), 0.01)
      AND {_haversine("a", "b")} <= {RADIUS_M}
      AND a.closed_at < b.received_at AND a.closed_at >= b.received_at - interval '{MAX_WITHIN_DAYS} days'
    ORDER BY a.closed_at DESC LIMIT 1
) p
WHERE b.appeal_no = ANY(CAST(:nos AS text[])) AND b.latitude IS NOT NULL AND b.longitude IS NOT NULL
ON CONFLICT (appeal_no, matched_by) DO UPDATE SET
    previous_no = excluded.previous_no, previous_closed_at = excluded.previous_closed_at,
    problem_no = excluded.problem_no, distance_m = excluded.distance_m
WHERE excluded.previous_closed_at > appeal_return.previous_closed_at
""")

# What the problems of these appeals are made of: the appeals they came back after, and the
# problems those belong to when they came back themselves. (Two plain lookups by number: even
# with the table's statistics out of date, the worst plan is one scan each.)
_CHAINS = sa.text("""
SELECT appeal_no, previous_no, problem_no FROM appeal_return WHERE appeal_no = ANY(CAST(:nos AS text[]))
""")
_PROBLEMS = sa.text("""
SELECT appeal_no, min(problem_no) AS problem_no FROM appeal_return
WHERE appeal_no = ANY(CAST(:nos AS text[])) GROUP BY appeal_no
""")
_SET_PROBLEMS = sa.text("""
UPDATE appeal_return r SET problem_no = u.problem_no
FROM unnest(CAST(:nos AS text[]), CAST(:problems AS text[])) AS u(appeal_no, problem_no)
WHERE r.appeal_no = u.appeal_no AND r.problem_no <> u.problem_no
""")


async def _join_problems(conn: AsyncConnection, numbers: list[str]) -> None:
    """An appeal belongs to the problem of the appeal it came back after (the first of them when
    it came back after two, by address and by distance), following chains inside `numbers`."""
    rows = (await conn.execute(_CHAINS, {"nos": numbers})).all()
    outside = sorted({prev for _, prev, _ in rows} - set(numbers))
    problem_there = dict((await conn.execute(_PROBLEMS, {"nos": outside})).all()) if outside else {}
    previous: dict[str, list[tuple[str, str | None]]] = {}
    current: dict[str, set[str]] = {}  # one row by address and one by distance may differ
    for no, prev, problem in rows:
        previous.setdefault(no, []).append((prev, problem_there.get(prev)))
        current.setdefault(no, set()).add(problem)
    problem_of: dict[str, str] = {}

    def resolve(no: str) -> str:
        stack = [no]
        while stack:  # iteratively, so that a long chain cannot exhaust the recursion limit
            x = stack.pop()
            if x in problem_of:
                continue
            pending = [p for p, _ in previous[x] if p in previous and p not in problem_of]
            if pending:
                stack.append(x)
                stack.extend(pending)
                continue
            problem_of[x] = min(problem_of[p] if p in previous else (pp or p) for p, pp in previous[x])
        return problem_of[no]

    changed = {no: resolve(no) for no in previous}
    changed = {no: p for no, p in changed.items() if current[no] != {p}}
    if changed:
        await conn.execute(_SET_PROBLEMS, {"nos": list(changed), "problems": list(changed.values())})


async def fill_returns(conn: AsyncConnection, appeal_nos: Iterable[str]) -> None:
    """Work out whether these appeals came back, and to which problem (in the caller's
    transaction). Call it once the appeals, and the earlier ones with their outcomes, are in
    the table, the earlier appeals first (or in the same call); running it again is harmless."""
    numbers = list(dict.fromkeys(appeal_nos))
    for i in range(0, len(numbers), 5000):
        chunk = numbers[i : i + 5000]
        await conn.execute(_FILL, {"nos": chunk})
        await _join_problems(conn, chunk)


async def backfill_returns(engine: AsyncEngine, *, batch: int = 5000, since: datetime | None = None) -> int:
    """`fill_returns` for every appeal received since `since` (all by default), in the order
    they were received, a batch per transaction. Returns the number of appeals looked at."""
    done, after = 0, (since or datetime(1970, 1, 1, tzinfo=UTC), "")
    while True:
        if done % (batch * 50) == 0:  # the table grows fast: keep the planner's picture of it current
            async with engine.begin() as conn:
                await conn.execute(sa.text("ANALYZE appeal_return"))
        async with engine.begin() as conn:
            rows = (
                await conn.execute(
                    sa.text(
                        """
                        SELECT appeal_no, received_at FROM appeal
                        WHERE (received_at, appeal_no) > (:at, :no)
                          AND ((street_code IS NOT NULL AND location_address IS NOT NULL) OR latitude IS NOT NULL)
                        ORDER BY received_at, appeal_no LIMIT :size
                        """
                    ),
                    {"at": after[0], "no": after[1], "size": batch},
                )
            ).all()
            if not rows:
                return done
            await fill_returns(conn, [r.appeal_no for r in rows])
        done += len(rows)
        after = (rows[-1].received_at, rows[-1].appeal_no)


# --- the recurring problems of a period ------------------------------------------------------


@dataclass
class Appearance:
    appeal_no: str
    received_at: datetime
    closed_at: datetime | None
    outcome: str | None
    status: str
    after: str | None = None  # the resolved appeal it came back after
    came_back_after_days: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "appeal_no": self.appeal_no,
            "received_at": self.received_at,
            "closed_at": self.closed_at,
            "outcome": self.outcome,
            "status": self.status,
            "after": self.after,
            "came_back_after_days": self.came_back_after_days,
        }


@dataclass
class Recurrence:
    """One recurring problem: a category at a place, and its appeals in order."""

    problem_no: str
    category: str
    district: str | None
    street: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    matched_by: list[str]  # "address", "radius"
    returns_in_period: int
    history: list[Appearance] = field(default_factory=list)

    @property
    def returns(self) -> int:
        """Times it came back, in the period and before it."""
        return sum(1 for a in self.history if a.after is not None)


@dataclass
class RecurrencePage:
    items: list[Recurrence]
    total: int


_RETURNS = """
    matched_by = ANY(CAST(:match AS text[])) AND received_at - previous_closed_at <= make_interval(days => :days)
"""


async def recurring(
    session: AsyncSession | AsyncConnection,
    period: Period,
    *,
    within_days: int = DEFAULT_WITHIN_DAYS,
    match: tuple[str, ...] = ("address", "radius"),
    filters: Filters = Filters(),
    limit: int = 50,
    offset: int = 0,
) -> RecurrencePage:
    """The problems that came back in the period — appeals received in it within `within_days`
    of a resolution at their place — the most returns in the period first, then the latest;
    each with its history up to the end of the period."""
    if not 1 <= within_days <= MAX_WITHIN_DAYS:
        raise ValueError(f"within_days is 1 to {MAX_WITHIN_DAYS}")
    conn = await as_connection(session)
    start, end = period.bounds()
    params: dict[str, Any] = {"start": start, "end": end, "days": within_days, "match": list(match),
                              "limit": limit, "offset": offset}
    page = (
        await conn.execute(
            sa.text(
                f"""
                WITH b AS (
                    SELECT DISTINCT ON (appeal_no) appeal_no, problem_no, received_at FROM appeal_return
                    WHERE received_at >= :start AND received_at < :end AND {_RETURNS}{filters.sql(params)}
                    ORDER BY appeal_no, matched_by
                ), p AS (
                    SELECT problem_no, count(*) AS returns, max(received_at) AS latest FROM b GROUP BY problem_no
                )
                SELECT k.problem_no, k.returns, (SELECT count(*) FROM p) AS total
                FROM (SELECT 1) one LEFT JOIN LATERAL (
                    SELECT * FROM p ORDER BY returns DESC, latest DESC, problem_no LIMIT :limit OFFSET :offset
                ) k ON true
                """
            ),
            params,
        )
    ).all()
    problems = {r.problem_no: r.returns for r in page if r.problem_no is not None}
    if not problems:
        return RecurrencePage([], page[0].total)

    # each problem's history: where it started, and every return up to the end of the period
    links = (
        await conn.execute(
            sa.text(
                f"""
                SELECT appeal_no, problem_no, previous_no, previous_closed_at, matched_by FROM appeal_return
                WHERE problem_no = ANY(CAST(:problems AS text[])) AND received_at < :end AND {_RETURNS}
                """
            ),
            {"problems": list(problems), "end": end, "days": within_days, "match": list(match)},
        )
    ).all()
    members: dict[str, dict[str, None]] = {p: {p: None} for p in problems}  # ordered sets
    back: dict[str, list[Any]] = {}  # appeal → [the latest resolved before it, when it closed, how]
    for no, problem, previous, closed, how in links:
        members[problem][no] = members[problem][previous] = None
        seen = back.get(no)
        if seen is None:
            back[no] = [previous, closed, {how}]
        else:
            seen[2].add(how)
            if closed > seen[1]:
                seen[0], seen[1] = previous, closed
    numbers = [x for m in members.values() for x in m]
    rows = {
        r.appeal_no: r
        for r in await conn.execute(
            sa.text(
                """
                SELECT appeal_no, category_code, district_code, street_code, location_address, latitude, longitude,
                       received_at, closed_at, outcome, status
                FROM appeal WHERE appeal_no = ANY(CAST(:nos AS text[]))
                """
            ),
            {"nos": numbers},
        )
    }
    items = []
    for problem, returns in problems.items():
        history = []
        for x in sorted((x for x in members[problem] if x in rows), key=lambda n: (rows[n].received_at, n)):
            r, b = rows[x], back.get(x)
            days = round((r.received_at - b[1]).total_seconds() / 86400, 1) if b else None
            history.append(
                Appearance(r.appeal_no, r.received_at, r.closed_at, r.outcome, r.status, b[0] if b else None, days)
            )
        last = rows[history[-1].appeal_no]
        items.append(
            Recurrence(
                problem_no=problem, category=last.category_code, district=last.district_code,
                street=last.street_code, address=last.location_address, latitude=last.latitude,
                longitude=last.longitude,
                matched_by=sorted({m for x in members[problem] if x in back for m in back[x][2]}),
                returns_in_period=returns, history=history,
            )
        )
    return RecurrencePage(items, page[0].total)


async def _main() -> None:
    """`python -m analytics.recurring`: work out which appeals came back, for all of them."""
    from db.session import make_engine

    engine = make_engine()
    try:
        print(f"returns worked out for {await backfill_returns(engine)} appeals")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    import asyncio

    asyncio.run(_main())
