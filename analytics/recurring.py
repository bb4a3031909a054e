"""Recurring problems (反复出现的问题): the same category at the same place coming back within N
days after an appeal there was closed as resolved — the weeds that grew back.

"The same place" is the same street and the same address, or, when both appeals carry
coordinates, a distance of at most `RADIUS_M` (200 m). Whether an appeal came back is known the
moment it is received: the earlier appeal was closed before it came in. So it is worked out
once, at intake (`db.appeals.record_intake`) or in bulk (`fill_returns`, `backfill_returns`):
`appeal_return` keeps, for each appeal, the latest appeal of its category resolved at its place
within a year before, by address and by distance. The latest one is enough: for any N, an
appeal came back within N days exactly when the latest resolution before it is that recent.

Appeals linked by coming back form one recurring problem (A resolved → B → B resolved → C is
one problem), listed with its history in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from analytics.hotspots import Filters, _conn
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
_FILL = f"""
INSERT INTO appeal_return (appeal_no, matched_by, previous_no, previous_closed_at, distance_m,
                           received_at, category_code, district_code, street_code)
SELECT b.appeal_no, 'address', p.appeal_no, p.closed_at, NULL,
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
SELECT b.appeal_no, 'radius', p.appeal_no, p.closed_at, p.distance_m,
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
    distance_m = excluded.distance_m
WHERE excluded.previous_closed_at > appeal_return.previous_closed_at
"""


async def fill_returns(conn: AsyncConnection, appeal_nos: Iterable[str]) -> None:
    """Work out whether these appeals came back (in the caller's transaction). Call it once the
    appeals, and the earlier ones with their outcomes, are in the table; running it again is
    harmless (a later resolution found since replaces the one recorded)."""
    numbers = list(dict.fromkeys(appeal_nos))
    for i in range(0, len(numbers), 5000):
        await conn.execute(sa.text(_FILL), {"nos": numbers[i : i + 5000]})


async def backfill_returns(engine: AsyncEngine, *, batch: int = 5000, since: datetime | None = None) -> int:
    """`fill_returns` for every appeal received since `since` (all by default), a batch per
    transaction in the order of their numbers. Returns the number of appeals looked at."""
    done, after = 0, ""
    while True:
        async with engine.begin() as conn:
            numbers = (
                await conn.scalars(
                    sa.text(
                        """
                        SELECT appeal_no FROM appeal
                        WHERE appeal_no > :after AND (CAST(:since AS timestamptz) IS NULL OR received_at >= :since)
                          AND ((street_code IS NOT NULL AND location_address IS NOT NULL) OR latitude IS NOT NULL)
                        ORDER BY appeal_no LIMIT :size
                        """
                    ),
                    {"after": after, "since": since, "size": batch},
                )
            ).all()
            if not numbers:
                return done
            await fill_returns(conn, numbers)
        done += len(numbers)
        after = numbers[-1]


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


def _find(parent: dict[str, str], x: str) -> str:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


async def _earlier_returns(
    conn: AsyncConnection,
    groups: dict[str, list[str]],
    back: dict[str, list[Any]],
    within_days: int,
    match: tuple[str, ...],
    depth: int = 12,
) -> None:
    """Complete each problem's history before the period: the resolved appeal it came back
    after may itself have come back after an earlier one, and so on."""
    owner = {x: root for root, members in groups.items() for x in members}
    frontier = [x for x in owner if x not in back]
    for _ in range(depth):
        if not frontier:
            return
        found = (
            await conn.execute(
                sa.text(
                    """
                    SELECT appeal_no, previous_no, previous_closed_at, received_at, matched_by FROM appeal_return
                    WHERE appeal_no = ANY(CAST(:nos AS text[])) AND matched_by = ANY(CAST(:match AS text[]))
                      AND received_at - previous_closed_at <= make_interval(days => :days)
                    """
                ),
                {"nos": frontier, "match": list(match), "days": within_days},
            )
        ).all()
        frontier = []
        for no, previous, closed, received, how in found:
            seen = back.get(no)
            if seen is None:
                back[no] = [previous, closed, received, {how}]
            else:
                seen[3].add(how)
                if closed > seen[1]:
                    seen[0], seen[1] = previous, closed
            if previous not in owner:
                owner[previous] = owner[no]
                groups[owner[no]].append(previous)
                frontier.append(previous)


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
    of a resolution at their place — most returns first, then the latest, paged."""
    if not 1 <= within_days <= MAX_WITHIN_DAYS:
        raise ValueError(f"within_days is 1 to {MAX_WITHIN_DAYS}")
    conn = await _conn(session)
    start, end = period.bounds()
    params: dict[str, Any] = {"start": start, "end": end, "days": within_days, "match": list(match)}
    links = (
        await conn.execute(
            sa.text(
                f"""
                SELECT appeal_no, previous_no, previous_closed_at, received_at, matched_by
                FROM appeal_return
                WHERE received_at >= :start AND received_at < :end
                  AND matched_by = ANY(CAST(:match AS text[]))
                  AND received_at - previous_closed_at <= make_interval(days => :days){filters.sql(params)}
                """
            ),
            params,
        )
    ).all()

    parent: dict[str, str] = {}
    # appeal → [the resolved appeal it came back after (the latest), its closure, received, how]
    back: dict[str, list[Any]] = {}
    for no, previous, closed, received, how in links:
        parent.setdefault(no, no)
        parent.setdefault(previous, previous)
        ra, rb = _find(parent, previous), _find(parent, no)
        if ra != rb:
            parent[ra] = rb
        seen = back.get(no)
        if seen is None:
            back[no] = [previous, closed, received, {how}]
        else:
            seen[3].add(how)
            if closed > seen[1]:
                seen[0], seen[1] = previous, closed
    # one problem per set of linked appeals: its members, how many came back, the latest return
    problems: dict[str, list[Any]] = {}
    for x in parent:
        root = _find(parent, x)
        problem = problems.setdefault(root, [[], 0, None])
        problem[0].append(x)
        if (b := back.get(x)) is not None:
            problem[1] += 1
            if problem[2] is None or b[2] > problem[2]:
                problem[2] = b[2]
    order = sorted(problems, key=lambda r: (-problems[r][1], -problems[r][2].timestamp(), r))
    page = order[offset : offset + limit]
    groups = {root: problems[root][0] for root in page}
    await _earlier_returns(conn, groups, back, within_days, match)
    numbers = [x for root in page for x in groups[root]]
    rows = {}
    if numbers:
        rows = {
            r.appeal_no: r
            for r in await conn.execute(
                sa.text(
                    """
                    SELECT appeal_no, category_code, district_code, street_code, location_address, latitude,
                           longitude, received_at, closed_at, outcome, status
                    FROM appeal WHERE appeal_no = ANY(CAST(:nos AS text[]))
                    """
                ),
                {"nos": numbers},
            )
        }
    items = []
    for root in page:
        history = []
        for x in sorted(groups[root], key=lambda n: (rows[n].received_at, n)):
            r, b = rows[x], back.get(x)
            days = round((r.received_at - b[1]).total_seconds() / 86400, 1) if b else None
            history.append(
                Appearance(r.appeal_no, r.received_at, r.closed_at, r.outcome, r.status, b[0] if b else None, days)
            )
        last = rows[history[-1].appeal_no]
        items.append(
            Recurrence(
                category=last.category_code, district=last.district_code, street=last.street_code,
                address=last.location_address, latitude=last.latitude, longitude=last.longitude,
                matched_by=sorted({m for x in groups[root] if x in back for m in back[x][3]}),
                returns_in_period=problems[root][1],
                history=history,
            )
        )
    return RecurrencePage(items, len(order))


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
