"""The system at a glance, for administrators: the reference data (units by kind, districts
with their streets, the category tree, the time-limit policies, the working-day calendar) and the
stuck-case queries of docs/operations.md as links that open the Temporal UI filtered."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from console import i18n
from console.client import ApiProblem
from console.pages.admin import ADMIN, Text, admin_page, not_admin, problem_page
from console.session import BASE, SessionDep
from domain.calendar import CHINA_TZ
from domain.types import UnitKind

router = APIRouter(prefix=BASE, include_in_schema=False)

UNITS_PAGE = 100

i18n.register(
    {
        # reference data
        "ref.units": ("承办单位（按类型）", "Units by kind"),
        "ref.kind": ("类型", "Kind"),
        "ref.count": ("数量", "Count"),
        "ref.code": ("代码", "Code"),
        "ref.name": ("名称", "Name"),
        "ref.parent": ("上级", "Parent"),
        "ref.active": ("在用", "Active"),
        "ref.categories": ("派单目录（{n} 类）", "Dispatch catalogue ({n} categories)"),
        "ref.pain_point": ("痛点", "Pain point"),
        "ref.theme": ("主题", "Theme"),
        "ref.policies": ("办理时限", "Time limits"),
        "ref.appeal_type": ("诉求类型", "Appeal type"),
        "ref.urgency": ("紧急程度", "Urgency"),
        "ref.contact": ("联系时限", "Contact"),
        "ref.completion": ("办结时限", "Completion"),
        "ref.objection": ("异议期", "Objection window"),
        "ref.return_visit": ("回访期", "Return visit"),
        "ref.calendar": ("{y} 年节假日与调休", "Holidays and make-up working days, {y}"),
        "ref.day": ("日期", "Day"),
        "ref.day_kind": ("类别", "Kind"),
        "ref.holiday": ("放假", "Holiday"),
        "ref.workday": ("调休上班", "Working day"),
        "ref.districts": ("各区街乡", "Streets and townships per district"),
        "ref.streets": ("街乡数", "Streets and townships"),
        "ref.no_days": (
            "该年度没有节假日记录（按周一至周五工作计算）。",
            "No holiday recorded for that year (Monday to Friday are working days).",
        ),
        "unitkind.district_government": ("区人民政府", "District government"),
        "unitkind.municipal_department": ("市级部门", "Municipal department"),
        "unitkind.district_department": ("区级部门", "District department"),
        "unitkind.street": ("街道", "Street"),
        "unitkind.township": ("乡镇", "Township"),
        "unitkind.public_affairs_org": ("公共事务管理组织", "Public-affairs organisation"),
        "unitkind.public_service_enterprise": ("公共服务企业", "Public-service enterprise"),
        "limitunit.minutes": ("{n} 分钟", "{n} min"),
        "limitunit.hours": ("{n} 小时", "{n} h"),
        "limitunit.days": ("{n} 天", "{n} days"),
        "limitunit.working_days": ("{n} 个工作日", "{n} working days"),
        # Temporal
        "tq.intro": (
            "以下链接在 Temporal UI 中打开已筛选的流程列表（查询语句见 docs/operations.md）。",
            "Each link opens the Temporal UI's list of workflows filtered by the query (see docs/operations.md).",
        ),
        "tq.query": ("查询", "Query"),
        "tq.one": ("按单位、区或工单号", "For one unit, district or appeal"),
        "tq.show": ("生成链接", "Make the links"),
        "tq.appeal_no": ("工单号", "Appeal number"),
        "tq.unknown_unit": ("未知单位", "unknown unit"),
        "tq.unknown_district": ("未知区", "unknown district"),
        "tq.bad_no": ("工单号格式不正确", "not an appeal number"),
        "tq.running": ("运行中的全部工单流程", "Every appeal whose workflow runs"),
        "tq.open": ("全部未办结工单", "Every open order"),
        "tq.past_deadline": ("已过承办时限（联系或办结）", "Past the unit's deadline (contact, then completion)"),
        "tq.overdue": ("已标记超期（已升级督办）", "Flagged overdue (escalated to supervision)"),
        "tq.not_accepted": ("已派单未签收", "Dispatched but never accepted"),
        "tq.not_accepted_old": ("派单超过 24 小时仍未签收", "Dispatched over 24 hours ago, never accepted"),
        "tq.accepted_late": ("已签收但已过时限", "Accepted but past the deadline"),
        "tq.objections": ("待热线审核的管辖异议", "Objections waiting for the hotline"),
        "tq.held": ("待人工派单（无派单规则或暂存）", "Held for an operator"),
        "tq.parts": ("等待协办单位或报到部门", "Waiting on a co-handling unit or a summoned department"),
        "tq.parts_late": ("超时的协办与报到", "Late parts"),
        "tq.parts_requested": ("尚未接收或报到的协办", "Parts not yet accepted or reported in"),
        "tq.task_failures": ("流程任务失败（代码缺陷）", "Workflows failing on a bug (task failures)"),
        "tq.projection_failed": ("PostgreSQL 拒绝写入记录的工单", "Appeals whose record PostgreSQL refused"),
        "tq.patched": ("采用补丁的运行", "Runs that took a patch"),
        "tq.ended": ("异常结束的工单流程（需重启或关闭）", "Appeal workflows that ended abnormally (restart or close)"),
        "tq.unit_open": ("{u} 的未办结工单", "Open orders of {u}"),
        "tq.unit_parts": ("{u} 的协办与报到", "Parts asked of {u}"),
        "tq.district_open": ("{d} 的运行中工单", "Running appeals of {d}"),
        "tq.appeal": ("工单 {no} 的流程", "The workflow of {no}"),
        "tq.appeal_parts": ("工单 {no} 的协办与报到流程", "The parts of {no}"),
    }
)


# --- reference data ----------------------------------------------------------------------------


@router.get("/admin/reference", response_class=HTMLResponse)
async def reference(
    request: Request, session: SessionDep, kind: Text = "", q: Text = "", offset: Text = "", year: Text = ""
):
    """Units by kind (how many; the chosen kind's list), districts with their streets, the
    category tree, the time-limit policies, the year's holidays and make-up working days."""
    if refused := await not_admin(request, session):
        return refused
    api = session.api
    kind = kind if kind in {k.value for k in UnitKind} else UnitKind.STREET.value
    q = q[:50]
    start = int(offset) if offset.isdigit() else 0
    today = datetime.now(CHINA_TZ).date()
    the_year = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else today.year
    try:
        kinds = [(k.value, (await api.get("/units", kind=k.value, limit=1))["total"]) for k in UnitKind]
        units = await api.get("/units", kind=kind, q=q, limit=UNITS_PAGE, offset=start)
        districts = await api.get("/districts")
        catalogue = await api.get("/catalogue")
        policies = await api.get("/policies")
        days = await api.get(
            "/calendar", **{"from": date(the_year, 1, 1).isoformat(), "to": date(the_year, 12, 31).isoformat()}
        )
    except ApiProblem as problem:
        return await problem_page(request, session, problem)

    def href(**changes: Any) -> str:
        values = {
            k: v for k, v in {"kind": kind, "q": q, "year": the_year, **changes}.items() if v not in ("", None, 0)
        }
        return f"{ADMIN}/reference?{urlencode(values)}"

    return await admin_page(
        request,
        session,
        "reference.html",
        kinds=kinds,
        kind=kind,
        q=q,
        units=units,
        districts=districts,
        catalogue=catalogue,
        policies=sorted(policies, key=lambda p: (p["appeal_type"], p["urgency"])),
        days=days,
        year=the_year,
        href=href,
        prev_href=href(offset=max(0, start - UNITS_PAGE)) if start else None,
        next_href=href(offset=start + UNITS_PAGE) if start + UNITS_PAGE < units["total"] else None,
    )


# --- stuck cases in the Temporal UI ------------------------------------------------------------

APPEALS = "WorkflowType = 'AppealWorkflow'"
RUNNING = "ExecutionStatus = 'Running'"
PARTS = "WorkflowType = 'CoHandlingWorkflow'"

#: The stuck-case queries of docs/operations.md ("Finding stuck cases"), by message key; `{now}`
#: and `{day_ago}` are put in when the page is shown (UTC, as the UI compares).
STUCK_CASES: list[tuple[str, str]] = [
    ("tq.running", f"{APPEALS} AND {RUNNING}"),
    ("tq.open", f"{APPEALS} AND {RUNNING} AND AppealStatus != 'answered'"),
    ("tq.past_deadline", f"{APPEALS} AND {RUNNING} AND ReplyDeadline < '{{now}}'"),
    ("tq.overdue", f"{APPEALS} AND {RUNNING} AND Overdue = true"),
    ("tq.not_accepted", f"AppealStatus = 'dispatched' AND {RUNNING}"),
    ("tq.not_accepted_old", f"AppealStatus = 'dispatched' AND {RUNNING} AND InStatusSince < '{{day_ago}}'"),
    ("tq.accepted_late", "AppealStatus IN ('accepted', 'contacted', 'in_progress') AND ReplyDeadline < '{now}'"),
    ("tq.objections", "AppealStatus = 'objection_raised'"),
    ("tq.held", f"AppealStatus = 'received' AND {RUNNING}"),
    ("tq.parts", f"{PARTS} AND {RUNNING}"),
    ("tq.parts_late", f"{PARTS} AND {RUNNING} AND Overdue = true"),
    ("tq.parts_requested", f"{PARTS} AND {RUNNING} AND AppealStatus = 'part_requested'"),
    ("tq.task_failures", "TemporalReportedProblems IN ('category=WorkflowTaskFailed')"),
    ("tq.projection_failed", "ProjectionFailed = true"),
    ("tq.patched", "TemporalChangeVersion = 'keep-timer-while-alarm-unchanged'"),
    ("tq.ended", f"{APPEALS} AND ExecutionStatus IN ('Terminated', 'Failed', 'TimedOut')"),
]
APPEAL_NO = re.compile(r"^[A-Z]{2}-\d{8}-\d{6}$")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def workflows_link(ui: str, namespace: str, query: str) -> str:
    """The Temporal UI's list of workflows filtered by a visibility query."""
    return f"{ui}/namespaces/{quote(namespace, safe='')}/workflows?query={quote(query, safe='')}"


def stuck_case_links(ui: str, namespace: str, now: datetime) -> list[dict[str, str]]:
    words = {"now": _utc(now), "day_ago": _utc(now - timedelta(days=1))}
    found = []
    for key, template in STUCK_CASES:
        query = template.format(**words)
        found.append({"key": key, "query": query, "href": workflows_link(ui, namespace, query)})
    return found


@router.get("/admin/temporal", response_class=HTMLResponse)
async def temporal(request: Request, session: SessionDep, unit: Text = "", district: Text = "", appeal_no: Text = ""):
    """The stuck-case queries as links; for one unit, district or appeal, theirs."""
    if refused := await not_admin(request, session):
        return refused
    settings = request.app.state.settings
    ui, namespace = settings.temporal_ui, settings.temporal_namespace
    directory = await request.app.state.directory.get()
    asked = {"unit": unit.strip(), "district": district.strip(), "appeal_no": appeal_no.strip()}
    errors: dict[str, str] = {}
    mine: list[dict[str, str]] = []

    def add(key: str, query: str, **words: str) -> None:
        mine.append({"key": key, "words": words, "query": query, "href": workflows_link(ui, namespace, query)})

    if asked["unit"]:
        if asked["unit"] not in directory.units:
            errors["unit"] = i18n.text("tq.unknown_unit", session.lang)
        else:
            name = directory.units[asked["unit"]].name_zh
            add("tq.unit_open", f"HandlingUnit = '{asked['unit']}' AND {RUNNING}", u=name)
            add("tq.unit_parts", f"{PARTS} AND {RUNNING} AND HandlingUnit = '{asked['unit']}'", u=name)
    if asked["district"]:
        if asked["district"] not in directory.districts:
            errors["district"] = i18n.text("tq.unknown_district", session.lang)
        else:
            add(
                "tq.district_open",
                f"{APPEALS} AND {RUNNING} AND District = '{asked['district']}'",
                d=directory.districts[asked["district"]].name_zh,
            )
    if asked["appeal_no"]:
        no = asked["appeal_no"].upper()
        if not APPEAL_NO.match(no):
            errors["appeal_no"] = i18n.text("tq.bad_no", session.lang)
        else:
            add("tq.appeal", f"WorkflowId = 'appeal-{no}'", no=no)
            add("tq.appeal_parts", f"ParentWorkflowId = 'appeal-{no}'", no=no)
    return await admin_page(
        request,
        session,
        "temporal.html",
        status_code=422 if errors else 200,
        ui=ui,
        links=stuck_case_links(ui, namespace, datetime.now(UTC)),
        mine=mine,
        asked=asked,
        errors=errors,
        districts=[(code, d.name_zh) for code, d in directory.districts.items()],
    )
