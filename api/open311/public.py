"""What the public may see of appeals through Open311: no personal data (no citizen, no appeal
text), and 举报 (reports) never — their very existence stays between the reporter and the unit.

Status: `closed` once the unit has reported it done (or the hotline answered it on the spot) and
after, `open` otherwise; an appeal evaluated unresolved goes back to `open` while it is handled
again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.privacy import scrub

#: appeal statuses shown as `closed`
CLOSED = ("answered", "awaiting_evaluation", "closed")
#: timeline events the public sees, and the text each carries (in its detail)
NOTES = {
    "dispatched": None,
    "accepted": None,
    "contacted": None,
    "phased_report": "progress",
    "reported_done": "result",
    "answered": "answer",
    "rehandling": None,
    "closed": None,
    "not_accepted": None,
    "transferred_to_emergency": None,
}
#: after which events the appeal reads `closed`
CLOSING = {"reported_done", "answered", "closed", "not_accepted", "transferred_to_emergency"}
#: what an event says when it carries no text of its own
WORDS = {
    "dispatched": "已派单至承办单位",
    "accepted": "承办单位已接单",
    "contacted": "承办单位已联系诉求人",
    "rehandling": "回访未解决，退回承办单位重新办理",
    "closed": "工单已办结",
    "not_accepted": "不予受理（非12345受理范围，已告知正确渠道）",
    "transferred_to_emergency": "已转紧急服务部门处置",
}


@dataclass(frozen=True)
class Query:
    ids: list[str] | None = None
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None  # open | closed
    limit: int = 50
    offset: int = 0


_COLUMNS = """a.appeal_no, a.status, a.category_code, a.received_at, a.updated_at, a.completion_deadline,
    a.location_address, a.latitude, a.longitude, a.attachments, u.name_zh AS unit_name, c.name_zh AS service_name"""


def _where(q: Query) -> tuple[str, dict[str, Any]]:
    clauses, params = ["a.appeal_type <> 'report'"], {}
    if q.ids is not None:
        clauses.append("a.appeal_no = ANY(:ids)")
        params["ids"] = q.ids
    else:  # the spec: with ids, every other filter is ignored
        if q.service_codes:
            clauses.append("a.category_code = ANY(:codes)")
            params["codes"] = q.service_codes
        if q.start is not None:
            clauses.append("a.received_at >= :start")
            params["start"] = q.start
        if q.end is not None:
            clauses.append("a.received_at <= :end")
            params["end"] = q.end
        if q.status == "closed":
            clauses.append("a.status = ANY(:closed)")
            params["closed"] = list(CLOSED)
        elif q.status == "open":
            clauses.append("a.status <> ALL(:closed)")
            params["closed"] = list(CLOSED)
    return " AND ".join(clauses), params


async def requests(engine: AsyncEngine, q: Query) -> list[dict]:
    where, params = _where(q)
    sql = sa.text(
        f"""SELECT {_COLUMNS} FROM appeal a
        LEFT JOIN unit u ON u.code = a.handling_unit_code
        LEFT JOIN category c ON c.code = a.category_code
        WHERE {where} ORDER BY a.received_at DESC, a.appeal_no DESC LIMIT :limit OFFSET :offset"""
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(sql, params | {"limit": q.limit, "offset": q.offset})).mappings().all()
        notes = await _latest_notes(conn, [r["appeal_no"] for r in rows])
    return [_request(r, notes.get(r["appeal_no"])) for r in rows]


async def _latest_notes(conn, appeal_nos: list[str]) -> dict[str, str]:
    """Each appeal's last public word: what the unit (or the hotline) last reported."""
    if not appeal_nos:
        return {}
    sql = sa.text(
        """SELECT DISTINCT ON (appeal_no) appeal_no, kind, detail FROM appeal_event
        WHERE appeal_no = ANY(:nos) AND kind = ANY(:kinds) ORDER BY appeal_no, seq DESC"""
    )
    rows = (await conn.execute(sql, {"nos": appeal_nos, "kinds": list(NOTES)})).mappings().all()
    return {r["appeal_no"]: note(r["kind"], r["detail"]) for r in rows}


def note(kind: str, detail: dict | None) -> str:
    """An event in words for the public: its text scrubbed of phone and ID numbers (the unit's
    text reached the workflow scrubbed of the citizen's data already; this guards the rest)."""
    field = NOTES.get(kind)
    value = (detail or {}).get(field) if field else None
    return scrub(value) if value else WORDS.get(kind, kind)


def _request(row, status_notes: str | None) -> dict:
    """One request with the spec's fields, in the spec's order."""
    closed = row["status"] in CLOSED
    return {
        "service_request_id": row["appeal_no"],
        "status": "closed" if closed else "open",
        "status_notes": status_notes,
        "service_name": row["service_name"],
        "service_code": row["category_code"],
        "description": None,  # the appeal's text is the citizen's: never public
        "agency_responsible": row["unit_name"],
        "service_notice": None,
        "requested_datetime": row["received_at"],
        "updated_datetime": row["updated_at"],
        "expected_datetime": row["completion_deadline"],
        "address": scrub(row["location_address"]) if row["location_address"] else None,
        "address_id": None,
        "zipcode": None,
        "lat": row["latitude"],
        "long": row["longitude"],
        "media_url": (row["attachments"] or [None])[0],
    }


async def updates(engine: AsyncEngine, start: datetime | None, end: datetime | None, limit: int) -> list[dict]:
    """FixMyStreet's service request updates: every public event in the window, oldest first."""
    clauses, params = ["a.appeal_type <> 'report'", "e.kind = ANY(:kinds)"], {"kinds": list(NOTES), "limit": limit}
    if start is not None:
        clauses.append("e.occurred_at >= :start")
        params["start"] = start
    if end is not None:
        clauses.append("e.occurred_at <= :end")
        params["end"] = end
    sql = sa.text(
        f"""SELECT e.id, e.appeal_no, e.kind, e.detail, e.occurred_at FROM appeal_event e
        JOIN appeal a ON a.appeal_no = e.appeal_no
        WHERE {" AND ".join(clauses)} ORDER BY e.occurred_at, e.id LIMIT :limit"""
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(sql, params)).mappings().all()
    return [
        {
            "update_id": str(r["id"]),
            "service_request_id": r["appeal_no"],
            "status": "closed" if r["kind"] in CLOSING else "open",
            "updated_datetime": r["occurred_at"],
            "description": note(r["kind"], r["detail"]),
            "media_url": None,
        }
        for r in rows
    ]
