"""The operator's queues (待办队列): held orders, jurisdiction objections, extension requests and
return visits due, each oldest first with its count. The counts are one call (`GET /queues`),
the open queue's rows a page of `GET /appeals` with that queue's parameters; each row opens the
appeal page, whose offered actions (dispatch, answer, objection review, extension review, the
return visit's evaluation) do the work. The panel refreshes itself like the inbox.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from console import i18n
from console.pages.operator import operator_only
from console.render import more_after, page
from console.session import BASE, SessionDep

router = APIRouter(prefix=BASE, include_in_schema=False)

#: a queue's page
QUEUE_PAGE = 50

i18n.register(
    {
        "queue.held": ("待派单", "Held orders"),
        "queue.objections": ("管辖异议审核", "Objection reviews"),
        "queue.extensions": ("延期审核", "Extension reviews"),
        "queue.return_visits": ("待回访", "Return visits due"),
        "queue.answered": ("直接答复待回访", "Answered on the spot, awaiting evaluation"),
        "queue.held.hint": ("暂存的工单：打开后派单或直接答复。", "Held orders: open one to dispatch or answer it."),
        "queue.objections.hint": (
            "承办单位提出的管辖异议：打开后审核（成立则改派）。",
            "Jurisdiction objections raised by units: open one to review it (upheld: re-dispatched).",
        ),
        "queue.extensions.hint": (
            "承办单位的延期申请：打开后审核。",
            "Units' extension requests: open one to review it.",
        ),
        "queue.return_visits.hint": (
            "已反馈办理结果的工单：回访市民并记录评价（含承办单位是否联系了市民）。",
            "Reported done: call the citizen back and record the answers, including whether the unit got in touch.",
        ),
        "queue.oldest": ("最早的在前", "Oldest first"),
        "queue.search": ("工单号或内容", "Number or text"),
        "col.waiting_since": ("异议提出", "Raised"),
        "col.objection_reason": ("异议理由", "Reason"),
        "col.suggested": ("建议单位", "Suggested unit"),
        "col.completion_due": ("办结时限", "Completion due"),
        "col.return_visit_due": ("回访截止", "Return visit due"),
        "col.content": ("诉求内容", "Content"),
        "queue.forbidden": ("待办队列供话务员使用。", "The queues are the operators'."),
    }
)

#: the tabs, each showing one or more of the API's queues (`GET /queues`): the return visits
#: include the consultations answered on the spot, which the citizen may still evaluate
TABS: dict[str, tuple[str, ...]] = {
    "held": ("held",),
    "objections": ("objections",),
    "extensions": ("extensions",),
    "return_visits": ("return_visits", "answered"),
}


@router.get("/queues", response_class=HTMLResponse)
async def queues(
    request: Request,
    session: SessionDep,
    queue: Annotated[str, Query(max_length=20)] = "held",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    q: Annotated[str, Query(max_length=100)] = "",
):
    """The operator's queues, each oldest first, with their counts; the open one's rows, a page
    at a time (`q`: those with this number or text, as a caller gives it); refreshes itself
    every 15 s."""
    if not operator_only(session):
        return await page(
            request,
            "error.html",
            session,
            status_code=403,
            message=i18n.text("queue.forbidden", session.lang),
            back=BASE,
        )
    if queue not in TABS:
        queue = "held"
    api = session.api
    known = {each["name"]: each for each in await api.get("/queues")}  # every count, in one call
    counts = {tab: sum(known[name]["count"] for name in names) for tab, names in TABS.items()}
    lists: list[tuple[str, dict[str, Any]]] = []
    for name in TABS[queue]:
        found = await api.get(
            "/appeals", **known[name]["filter"], sort="oldest", limit=QUEUE_PAGE, offset=offset, q=q.strip() or None
        )
        lists.append((name, found))

    def href(**changes: Any) -> str:
        params = {"queue": queue, "q": q, "offset": offset, **changes}
        return f"{BASE}/queues?" + urlencode({k: v for k, v in params.items() if v not in (0, "")})

    return await page(
        request,
        "operator/queues.html" if "hx-request" not in request.headers else "operator/queue_panel.html",
        session,
        queue=queue,
        queues=list(TABS),
        counts=counts,
        lists=lists,
        href=href,
        q=q,
        refresh_href=href(),
        prev_href=href(offset=max(0, offset - QUEUE_PAGE)) if offset else None,
        next_href=href(offset=offset + QUEUE_PAGE) if any(more_after(f, offset, QUEUE_PAGE) for _, f in lists) else None,
    )
