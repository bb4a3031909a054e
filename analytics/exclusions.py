"""Reviews that take an appeal out of the three rates (found unreasonable: malicious or repeated
calls, demands no unit could meet...) or put it back. Each review is kept in an append-only audit;
the appeal row's `excluded` follows the latest one, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


class ReviewRefused(ValueError):
    """The review changes nothing or cannot apply; the message says why."""


@dataclass(frozen=True)
class Review:
    id: int
    appeal_no: str
    excluded: bool
    reason: str
    username: str
    role: str
    at: datetime


async def review(
    conn: AsyncConnection, appeal_no: str, *, excluded: bool, reason: str, username: str, role: str
) -> Review | None:
    """Record the review; None when the appeal does not exist."""
    row = (
        await conn.execute(
            sa.text("SELECT excluded, handling_unit_code FROM appeal WHERE appeal_no = :n FOR UPDATE"),
            {"n": appeal_no},
        )
    ).first()
    if row is None:
        return None
    if row.handling_unit_code is None:
        raise ReviewRefused("the appeal was never with a unit, so it is in no unit's assessment")
    if row.excluded == excluded:
        state = "already excluded" if excluded else "not excluded"
        raise ReviewRefused(f"the appeal is {state}")
    await conn.execute(
        sa.text("UPDATE appeal SET excluded = :e WHERE appeal_no = :n"), {"e": excluded, "n": appeal_no}
    )
    saved = (
        await conn.execute(
            sa.text(
                "INSERT INTO assessment_exclusion (appeal_no, excluded, reason, username, role) "
                "VALUES (:n, :e, :r, :u, :role) RETURNING id, appeal_no, excluded, reason, username, role, at"
            ),
            {"n": appeal_no, "e": excluded, "r": reason, "u": username, "role": role},
        )
    ).one()
    return Review(*saved)


async def reviews(
    conn: AsyncConnection, *, appeal_no: str | None, since: datetime | None, until: datetime | None,
    limit: int, offset: int, district: str | None = None,
) -> tuple[int, list[Review]]:
    where, params = ["TRUE"], {"limit": limit, "offset": offset}
    if appeal_no is not None:
        where.append("appeal_no = :n")
        params["n"] = appeal_no
    if district is not None:  # reviews of the district's appeals only
        where.append("appeal_no IN (SELECT appeal_no FROM appeal WHERE district_code = :d)")
        params["d"] = district
    if since is not None:
        where.append("at >= :a")
        params["a"] = since
    if until is not None:
        where.append("at < :b")
        params["b"] = until
    cond = " AND ".join(where)
    total = await conn.scalar(sa.text(f"SELECT count(*) FROM assessment_exclusion WHERE {cond}"), params)
    rows = await conn.execute(
        sa.text(
            "SELECT id, appeal_no, excluded, reason, username, role, at FROM assessment_exclusion "
            f"WHERE {cond} ORDER BY at DESC, id DESC LIMIT :limit OFFSET :offset"
        ),
        params,
    )
    return total or 0, [Review(*r) for r in rows]
