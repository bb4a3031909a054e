"""The parts inbox: the co-handling parts (协办) and whistles (吹哨报到) asked of the user's unit,
the nearest limit first, with the time left; it updates itself. Each row opens the appeal page,
where the part's own actions (report in or accept, phased report, report done, decline) are
offered as the API offers them. Supervisors see every unit's (a district supervisor the
district's): the scope is the API's (`GET /parts`)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from console import i18n
from console.client import ApiProblem
from console.render import page
from console.session import BASE, SessionDep

router = APIRouter(prefix=BASE, include_in_schema=False)

PAGE_SIZE = 50
KINDS = ("co_handling", "whistle")
STATUSES = ("requested", "accepted", "declined", "done", "closed", "failed")

i18n.register(
    {
        "parts.title": ("协办与吹哨报到", "Co-handling and whistles"),
        "parts.kind": ("类型", "Kind"),
        "parts.unit": ("被请求单位", "Asked of"),
        "parts.lead": ("主办单位", "Lead unit"),
        "parts.task": ("任务", "Task"),
        "parts.status": ("状态", "Status"),
        "parts.requested": ("发起时间", "Asked"),
        "parts.round": ("第 {n} 轮", "round {n}"),
        "parts.open": ("未办结", "Open"),
        "parts.empty": ("没有需要处理的协办或吹哨任务。", "No part is waiting."),
        "parts.next_due": ("最近时限", "Next limit"),
        "parts.overdue": ("已超时", "Late"),
        "parts.open_appeal": ("打开工单办理", "Open the appeal to act"),
        "parts.actions": ("下一步", "Next"),
        "parts.view_appeal": ("查看工单", "Open the appeal"),
        "parts.unit_filter": ("单位（代码）", "Unit (code)"),
    }
)


def next_limit(part: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The limit the part works to now: reporting in until it has (a whistle's), then its own;
    the last one met once all are. As `console.render.left` reads a limit: due, since when,
    met at, missed."""
    limits = part.get("limits") or {}
    chosen = next(
        ((n, lim) for n, lim in limits.items() if lim.get("met_at") is None and lim["state"] != "stopped"), None
    )
    if chosen is None and limits:
        chosen = list(limits.items())[-1]
    if chosen is None:
        return None
    name, limit = chosen
    return name, {
        "due": limit["due"],
        "requested_at": part["requested_at"],
        "met_at": limit.get("met_at"),
        "missed": limit["state"] == "missed",
    }


class PartsQuery:
    FIELDS = ("kind", "overdue", "status", "unit", "offset")

    def __init__(self, values: dict[str, str]) -> None:
        self.values = {k: values.get(k, "")[:40] for k in self.FIELDS}
        if self.values["kind"] not in KINDS:
            self.values["kind"] = ""
        if self.values["status"] not in STATUSES:
            self.values["status"] = ""
        if self.values["overdue"] != "true":
            self.values["overdue"] = ""
        if not self.values["offset"].isdigit():
            self.values["offset"] = ""

    def __getattr__(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def start(self) -> int:
        return int(self.offset or 0)

    def href(self, **changes: Any) -> str:
        params = {k: v for k, v in {**self.values, **changes}.items() if v not in ("", None, 0, "0")}
        return f"{BASE}/parts?{urlencode(params)}" if params else f"{BASE}/parts"


Text = Annotated[str, Query(max_length=40)]


@router.get("/parts", response_class=HTMLResponse)
async def parts_inbox(
    request: Request,
    session: SessionDep,
    kind: Text = "",
    overdue: Text = "",
    status: Text = "",
    unit: Text = "",
    offset: Text = "",
):
    """The parts asked of the unit (or, for supervisors, of every unit they see), the nearest
    limit first; an htmx request gets the rows only (the page asks every 15 s)."""
    query = PartsQuery({"kind": kind, "overdue": overdue, "status": status, "unit": unit, "offset": offset})
    params: dict[str, Any] = {
        "kind": query.kind,
        "overdue": query.overdue or None,
        "limit": PAGE_SIZE,
        "offset": query.start,
    }
    if query.status:
        params["status"] = query.status
    if query.unit and session.role != "unit_staff":
        params["unit"] = query.unit
    try:
        found = await session.api.get("/parts", **params)
    except ApiProblem as problem:
        return await page(
            request, "error.html", session, status_code=problem.status, message=problem.message, back=f"{BASE}/parts"
        )
    fragment = "hx-request" in request.headers
    return await page(
        request,
        "parts/parts_rows.html" if fragment else "parts/parts_inbox.html",
        session,
        found=found,
        query=query,
        next_limit=next_limit,
        kinds=KINDS,
        statuses=STATUSES,
        refresh_href=query.href(),
        prev_href=query.href(offset=max(0, query.start - PAGE_SIZE)) if query.start else None,
        next_href=query.href(offset=query.start + PAGE_SIZE) if query.start + PAGE_SIZE < found["total"] else None,
    )
