"""The supervisor's page (督办): what is overdue, under supervision or escalated, oldest first
(`GET /supervision`), filtered by district, unit and status, with the counts per district and
per unit (`GET /supervision/counts`) and a map of the districts coloured by overdue orders; each
row has its own form to supervise (a note, a new completion limit, escalation) without leaving
the list. A district supervisor sees the district: the scope is the API's."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from console import i18n
from console.client import ApiProblem
from console.forms import FormField, body_from
from console.pages.core import next_limit
from console.render import more_after, page
from console.session import BASE, Session, SessionDep
from domain.messages import AppealStatus

router = APIRouter(prefix=BASE, include_in_schema=False)

AppealNo = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
Text = Annotated[str, Query(max_length=40)]
PAGE_SIZE = 50
#: the units shown in the counts at first (the rest behind "all")
TOP_UNITS = 15

#: the supervise action's form (its body: `domain.collaboration.SuperviseInput`)
SUPERVISE = [
    FormField("note", "text", True, "field.note", max_length=2000),
    FormField("new_due", "datetime", False, "field.new_due"),
    FormField("escalate", "bool", False, "field.escalate", default=False),
]

i18n.register(
    {
        "sup.title": ("督办", "Supervision"),
        "sup.counts": ("分布", "Where they are"),
        "sup.by_district": ("按区", "By district"),
        "sup.by_unit": ("按承办单位", "By unit"),
        "sup.district": ("区", "District"),
        "sup.unit": ("承办单位", "Unit"),
        "sup.appeals": ("待督办", "To supervise"),
        "sup.overdue": ("超期", "Overdue"),
        "sup.supervised": ("督办中", "Supervised"),
        "sup.escalated": ("市级督办", "Municipal"),
        "sup.ended": ("流程中断", "Workflow ended"),
        "sup.total": ("合计", "Total"),
        "sup.all_units": ("全部 {n} 个单位", "All {n} units"),
        "sup.no_unit": ("未派单", "Not dispatched"),
        "sup.no_district": ("未填地点", "No place"),
        "sup.map": ("超期工单分布图", "Overdue orders by district"),
        "sup.map_suffix": (" 件超期", " overdue"),
        "sup.list": ("待督办工单（最早受理在前）", "To supervise (oldest first)"),
        "sup.flags": ("标记", "Flags"),
        "sup.level.district": ("区级督办", "District supervision"),
        "sup.level.municipal": ("市级督办", "Municipal supervision"),
        "sup.workflow_ended": ("流程已中断", "Workflow ended"),
        "sup.act": ("督办", "Supervise"),
        "sup.done": ("已督办：{no}", "Supervised: {no}"),
        "sup.clear": ("清除筛选", "Clear filters"),
        "sup.empty": ("没有需要督办的工单。", "Nothing to supervise."),
    }
)


class SupervisionQuery:
    FIELDS = ("district", "unit", "status", "overdue", "offset")

    def __init__(self, values: dict[str, str]) -> None:
        self.values = {k: str(values.get(k, ""))[:40] for k in self.FIELDS}
        if self.values["overdue"] not in ("true", "false"):
            self.values["overdue"] = ""
        if not self.values["offset"].isdigit():
            self.values["offset"] = ""

    def __getattr__(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def start(self) -> int:
        return int(self.offset or 0)

    @property
    def filters(self) -> dict[str, str]:
        return {k: v for k, v in self.values.items() if k != "offset" and v}

    def href(self, **changes: Any) -> str:
        params = {k: v for k, v in {**self.values, **changes}.items() if v not in ("", None, 0, "0")}
        return f"{BASE}/supervision?{urlencode(params)}" if params else f"{BASE}/supervision"


def overdue_by_district(districts: list[dict[str, Any]]) -> dict[str, int]:
    """The district map's values: overdue orders per district (code → count)."""
    return {d["district"]: d["overdue"] for d in districts if d["district"]}


async def _supervision_page(
    request: Request,
    session: Session,
    query: SupervisionQuery,
    *,
    status_code: int = 200,
    failed: dict[str, Any] | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    params: dict[str, Any] = {**query.filters, "limit": PAGE_SIZE, "offset": query.start}
    try:
        found = await session.api.get("/supervision", **params)
        counts = await session.api.get("/supervision/counts", **query.filters)
    except ApiProblem as problem:
        return await page(
            request,
            "error.html",
            session,
            status_code=problem.status,
            message=problem.message,
            back=f"{BASE}/supervision",
        )
    directory = await request.app.state.directory.get()
    district_names = {code: d.name_zh for code, d in directory.districts.items()}
    all_units = request.query_params.get("units") == "all"  # (declared by the page's route)
    rows = []
    for a in found["items"]:
        mine = failed is not None and failed["appeal_no"] == a["appeal_no"]
        rows.append(
            {
                "appeal": a,
                "form": {
                    "route": "supervise",
                    "part": a["appeal_no"],
                    "key": secrets.token_urlsafe(12),
                    "values": failed["values"] if mine else {},
                    "errors": failed["errors"] if mine else {},
                    "message": failed["message"] if mine else None,
                    "open": mine,
                },
            }
        )
    shown = failed is not None and any(r["appeal"]["appeal_no"] == failed["appeal_no"] for r in rows)
    failed_elsewhere = f"{failed['appeal_no']}: {failed['reason']}" if failed is not None and not shown else None
    return await page(
        request,
        "supervisor/supervision.html",
        session,
        status_code=status_code,
        flash=flash,
        failed_elsewhere=failed_elsewhere,
        found=found,
        rows=rows,
        counts=counts,
        query=query,
        next_limit=next_limit,
        fields=SUPERVISE,
        statuses=[s.value for s in AppealStatus],
        districts=list(district_names.items()),
        units_shown=counts["units"] if all_units else counts["units"][:TOP_UNITS],
        all_units_href=None
        if all_units or len(counts["units"]) <= TOP_UNITS
        else query.href() + ("&" if "?" in query.href() else "?") + "units=all",
        overdue_by_district=overdue_by_district(counts["districts"]),
        district_hrefs={
            code: query.href(district=code, offset="")
            for code in district_names
            if not session.me.get("district") or code == session.me["district"]
        },
        back=query.href(),
        prev_href=query.href(offset=max(0, query.start - PAGE_SIZE)) if query.start else None,
        next_href=query.href(offset=query.start + PAGE_SIZE) if more_after(found, query.start, PAGE_SIZE) else None,
    )


@router.get("/supervision", response_class=HTMLResponse)
async def supervision(
    request: Request,
    session: SessionDep,
    district: Text = "",
    unit: Text = "",
    status: Text = "",
    overdue: Text = "",
    offset: Text = "",
    units: Text = "",
    done: Text = "",
):
    query = SupervisionQuery(
        {"district": district, "unit": unit, "status": status, "overdue": overdue, "offset": offset}
    )
    flash = i18n.text("sup.done", session.lang).format(no=done[:32]) if done else None
    return await _supervision_page(request, session, query, flash=flash)


@router.post("/supervision/{appeal_no}/supervise", response_class=HTMLResponse)
async def supervise(request: Request, appeal_no: AppealNo, session: SessionDep):
    """One row's form: `POST /appeals/{no}/supervise` with its note, new limit and escalation;
    back to the list as it was filtered, or the list again with the reasons by the row's fields."""
    form = await request.form()
    query = SupervisionQuery({k: str(form.get(f"q_{k}", "")) for k in SupervisionQuery.FIELDS})
    values = {name: [str(v) for v in form.getlist(name)] for name in form.keys()}
    body = body_from(SUPERVISE, values)
    try:
        await session.api.post(
            f"/appeals/{appeal_no}/supervise", body, idempotency_key=str(form.get("idempotency_key", ""))[:64] or None
        )
    except ApiProblem as problem:
        errors = {name.split(".")[-1]: reason for name, reason in problem.fields.items()}
        by_field = bool(errors) and set(errors) <= {f.name for f in SUPERVISE}  # said by the fields already
        failed = {
            "appeal_no": appeal_no,
            "values": {k: v[-1] for k, v in values.items() if v},
            "errors": errors,
            "message": None if by_field else problem.message,
            "reason": problem.message,
        }
        return await _supervision_page(request, session, query, status_code=problem.status, failed=failed)
    back = query.href()
    return RedirectResponse(f"{back}{'&' if '?' in back else '?'}{urlencode({'done': appeal_no})}", status_code=303)
