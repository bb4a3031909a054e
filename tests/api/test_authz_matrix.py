"""Who may call what: every route of the OpenAPI schema × every kind of caller.

Each route is declared once below (`ROUTES`: who may call it, whether it is about one appeal,
whether the citizen's X-Citizen-Token opens it); the expected outcome of each cell follows from
that declaration and the caller (`expected`):

- 401 when a token is needed and none (or a forged one) is given;
- 403 for a role that may never do this — checked before the appeal is looked up, so a 403 says
  nothing about whether the appeal exists;
- 404, never 403, for an appeal the caller may not see (another unit's, another district's,
  another citizen's): indistinguishable from an appeal that does not exist;
- otherwise through: 200/201 for reads, and for actions 200 or a refusal *after* the
  authorization checks (409 wrong state or unit, 422 a business rule) — the matrix runs the
  actions against live appeals whose state moves as it goes.

No cell may ever answer 5xx. `test_every_route_is_declared` fails when the API grows a route the
declaration does not know.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa

from api.auth import TOKEN_TTL_S, issue_token
from db.models import User
from db.users import DemoUser, ensure_users
from domain.types import Role
from tests.api.conftest import PASSWORD, STAFF
from tests.api.test_appeals_e2e import LIU, act, intake, street_lights

pytestmark = pytest.mark.usefixtures("appeal_worker")

# --- outcome classes -------------------------------------------------------------------------

OK = frozenset({200, 201, 202})
#: through authorization; an action may still be refused for the appeal's state or a business rule
PASSED = frozenset({200, 201, 202, 409, 422})
UNAUTHORIZED = frozenset({401})
FORBIDDEN = frozenset({403})
HIDDEN = frozenset({404})

O, U, S, A, ADM = Role.OPERATOR, Role.UNIT_STAFF, Role.SUPERVISOR, Role.ANALYST, Role.ADMINISTRATOR
ANY_STAFF = frozenset(Role)
PUBLIC = None  # no token needed

PART_UNIT = "110101-CGW"  # the co-handling part asked of Dongcheng urban management on the lights appeal
NO_SUCH_APPEAL = "BJ-20000101-999999"
ADMIN = DemoUser("authz-admin", "Administrator (authz matrix)", Role.ADMINISTRATOR)
DISABLED = DemoUser("authz-disabled", "Disabled operator (authz matrix)", Role.OPERATOR)


# --- the appeals the matrix runs against -----------------------------------------------------


@dataclass
class Ctx:
    lights: str  # street lights at 110101-ANDINGMEN: held by BJ-LIGHTING, district 110101
    garbage: str  # rubbish at 110105-CHAOWAI: held by the street itself, district 110105
    citizen_token: str  # the lights appeal's
    headers: dict[str, dict[str, str]]
    units: dict[str, set[str]] = field(default_factory=dict)  # appeal → every unit that ever held it or a part
    districts: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, dict] = field(default_factory=dict)  # lights | garbage → a governance task there

    def no(self, target: str) -> str:
        return getattr(self, target)


async def _wait(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.2)
    return result


@pytest_asyncio.fixture(scope="module")
async def ctx(api, tokens, engine) -> Ctx:
    await ensure_users(engine, (ADMIN,), PASSWORD)
    r = await api.post("/auth/token", json={"username": ADMIN.username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    headers = dict(tokens) | {ADMIN.username: {"Authorization": f"Bearer {r.json()['access_token']}"}}

    lights = await intake(api, tokens, street_lights(content="authz matrix: 路灯不亮"))
    no = lights["appeal"]["appeal_no"]
    assert lights["appeal"]["handling_unit"] == "BJ-LIGHTING" and lights["appeal"]["district"] == "110101"
    garbage = await intake(api, tokens, {
        "appeal_type": "complaint", "category": "CITY.GARBAGE", "location": {"street": "110105-CHAOWAI"},
        "content": "authz matrix: 垃圾堆积", "citizen": LIU | {"name": "王女士"}})
    assert garbage["appeal"]["district"] == "110105"

    # the lights appeal is being handled and has a co-handling part, so that the part routes
    # have a part to act on
    await act(api, tokens["lighting"], no, "accept")
    await act(api, tokens["lighting"], no, "co-handling", {"units": [PART_UNIT], "task": "check the cables"})

    async def part_projected():
        body = (await api.get(f"/appeals/{no}", headers=tokens["op"])).json()
        return f"co_handling:{PART_UNIT}" in body["parts"]

    await _wait(part_projected)
    tasks = await _governance(api, headers)
    return Ctx(
        lights=no,
        garbage=garbage["appeal"]["appeal_no"],
        citizen_token=lights["citizen_token"],
        headers=headers,
        units={no: {"BJ-LIGHTING", PART_UNIT}, garbage["appeal"]["appeal_no"]: {"110105-CHAOWAI"}},
        districts={no: "110101", garbage["appeal"]["appeal_no"]: "110105"},
        tasks=tasks,
    )


GOVERNANCE_TASKS = {  # target → the place and owner of a governance task there
    "lights": {"category": "MUNI.STREETLIGHT", "street": "110101-ANDINGMEN", "owner_unit": "BJ-LIGHTING"},
    "garbage": {"category": "CITY.GARBAGE", "street": "110105-CHAOWAI", "owner_unit": "110105-CHAOWAI"},
}
THEME_MONTH = "2026-09"


async def _governance(api, headers) -> dict[str, dict]:
    """A governance task at each target's place (running, with its schedule), and the theme of
    THEME_MONTH, for the governance routes."""
    tasks = {}
    for target, place in GOVERNANCE_TASKS.items():
        r = await api.post("/governance/tasks", json={"title": f"authz matrix: {target}", **place},
                           headers=headers["supervisor"])
        assert r.status_code == 201, r.text
        tasks[target] = r.json()
    problems = [{"title": f"authz matrix: {t}", **place} for t, place in GOVERNANCE_TASKS.items()]
    r = await api.post("/governance/themes", json={"month": THEME_MONTH, "title": "authz matrix", "problems": problems},
                       headers=headers["supervisor"])
    assert r.status_code in (201, 409), r.text

    async def started():
        for task in tasks.values():
            body = (await api.get(f"/governance/tasks/{task['id']}", headers=headers["supervisor"])).json()
            if body["status"] != "active":
                return False
        return True

    await _wait(started)
    return tasks


# --- the callers -----------------------------------------------------------------------------

ROLES = {u.username: u for u in STAFF} | {ADMIN.username: ADMIN}


@dataclass(frozen=True)
class Caller:
    name: str
    kind: str  # anonymous | forged | staff | citizen
    target: str = "lights"  # the appeal it calls about: lights | garbage
    user: str | None = None

    def headers(self, ctx: Ctx) -> dict[str, str]:
        match self.kind:
            case "anonymous":
                return {}
            case "forged":
                return {"Authorization": "Bearer eyJzdWIiOiJvcCJ9.not-a-signature"}
            case "citizen":
                return {"X-Citizen-Token": ctx.citizen_token}  # always the lights appeal's token
        return ctx.headers[self.user]

    def sees(self, ctx: Ctx) -> bool:
        """May this staff member see the appeal it calls about? (the rule under test, restated)"""
        user = ROLES[self.user]
        no = ctx.no(self.target)
        if user.role is Role.UNIT_STAFF:
            return user.unit_code in ctx.units[no]
        if user.role is Role.SUPERVISOR and user.district_code:
            return user.district_code == ctx.districts[no]
        return True

    def sees_task(self, ctx: Ctx) -> bool:
        """... and the governance task at its target's place?"""
        user, task = ROLES[self.user], ctx.tasks[self.target]
        if user.role is Role.UNIT_STAFF:
            return user.unit_code == task["owner_unit"]
        if user.role is Role.SUPERVISOR and user.district_code:
            return user.district_code == task["district"]
        return True


CALLERS = [
    Caller("anonymous", "anonymous"),
    Caller("forged-token", "forged"),
    Caller("op", "staff", user="op"),
    Caller("lighting", "staff", user="lighting"),  # the unit holding the lights appeal
    Caller("water", "staff", user="water"),  # another unit
    Caller("dongcheng-sup", "staff", "garbage", "dongcheng-sup"),  # 110101's supervisor, on a 110105 appeal
    Caller("dongcheng-sup@own", "staff", user="dongcheng-sup"),  # ... on its own district's appeal
    Caller("supervisor", "staff", "garbage", "supervisor"),  # the city's supervisor
    Caller("analyst", "staff", user="analyst"),
    Caller("admin", "staff", user=ADMIN.username),
    Caller("citizen", "citizen"),  # the lights appeal's token, on the lights appeal
    Caller("citizen@other", "citizen", "garbage"),  # ... on another appeal
]


# --- the declaration: one line per route -----------------------------------------------------

Body = Callable[[Ctx, Caller], Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    who: frozenset[Role] | None  # PUBLIC, or the roles that may
    appeal: bool = False  # about one appeal: the caller must be able to see it
    task: bool = False  # about one governance task: the caller must be able to see it
    citizen: bool = False  # the appeal's X-Citizen-Token opens it too
    body: Body | None = None
    params: dict | None = None
    last: bool = False  # changes what later cells would see: run after the others
    open311: bool = False  # GeoReport v2: opened by a channel's api_key, never by a role or a citizen's token
    special: dict[str, tuple[frozenset[int], str]] = field(default_factory=dict)  # caller → outcome, why

    @property
    def read(self) -> bool:
        return self.method == "GET"


def r(method, path, who, **kw) -> Route:
    return Route(method, path, None if who is PUBLIC else frozenset(who), **kw)


def j(body: dict) -> Body:
    return lambda ctx, caller: body


def _login(ctx: Ctx, caller: Caller) -> dict:
    # a different account per caller: logins are rate-limited per client and username
    username = STAFF[CALLERS.index(caller) % len(STAFF)].username
    return {"username": username, "password": PASSWORD}


APPEAL = "/appeals/{appeal_no}"
OPEN311 = "/open311/v2"
PART = APPEAL + "/{segment}/{unit}"

ROUTES: list[Route] = [
    # public reference data, health, login, docs
    r("GET", "/healthz", PUBLIC),
    r("GET", "/units", PUBLIC),
    r("GET", "/units/{code}", PUBLIC),
    r("GET", "/catalogue", PUBLIC),
    r("GET", "/catalogue/route", PUBLIC, params={"category": "MUNI.STREETLIGHT", "street": "110101-ANDINGMEN"}),
    r("GET", "/policies", PUBLIC),
    r("GET", "/calendar", PUBLIC),
    r("POST", "/auth/token", PUBLIC, body=_login),
    r("GET", "/docs", PUBLIC),
    r("GET", "/openapi.json", PUBLIC),
    r("GET", "/metrics", PUBLIC),  # Prometheus' scrape: figures, never an appeal's or a person's data
    # intake and reads
    r("POST", "/appeals", {O}, body=j(street_lights(content="authz matrix: intake cell"))),
    r("GET", "/appeals", ANY_STAFF),
    r("GET", APPEAL, ANY_STAFF, appeal=True, citizen=True),
    r("GET", APPEAL + "/timeline", ANY_STAFF, appeal=True, citizen=True),
    r("GET", APPEAL + "/contact", ANY_STAFF, appeal=True, citizen=True),
    r("GET", APPEAL + "/duplicates", {O}, appeal=True),
    r("GET", "/supervision", {S}),
    r("GET", "/queues", {O}),
    r("GET", "/parts", ANY_STAFF),  # unit staff: their own unit's parts (see test_lists_only_show_...)
    r("GET", "/audit/personal-data", {ADM}),
    # the appeal's actions
    r("POST", APPEAL + "/dispatch", {O}, appeal=True, body=j({})),
    r("POST", APPEAL + "/answer", {O}, appeal=True, body=j({"answer": "请拨打供电热线"})),
    r("POST", APPEAL + "/accept", {U}, appeal=True, body=j({})),
    r("POST", APPEAL + "/objection", {U}, appeal=True,
      body=j({"reason": "the lamp is on the street's own lane", "suggested_unit": "110101-ANDINGMEN"})),
    r("POST", APPEAL + "/objection-review", {O}, appeal=True, body=j({"uphold": False, "comment": "stays"})),
    r("POST", APPEAL + "/contact", {U}, appeal=True, body=j({"note": "called the citizen"})),
    r("POST", APPEAL + "/phased-report", {U}, appeal=True, body=j({"progress": "cables ordered"})),
    r("POST", APPEAL + "/extension", {U}, appeal=True, body=j({"reason": "waiting for cables"})),
    r("POST", APPEAL + "/extension-review", {O}, appeal=True, body=j({"approve": False})),
    r("POST", APPEAL + "/complete", {U}, appeal=True, body=j({"result": "lamps replaced"})),
    r("POST", APPEAL + "/evaluation", {O}, appeal=True, citizen=True,
      body=j({"resolved": True, "satisfaction": "satisfied"})),
    # many hands
    r("POST", APPEAL + "/co-handling", {U}, appeal=True, body=j({"units": ["110101-ZJW"], "task": "help"})),
    r("POST", APPEAL + "/whistle", {U}, appeal=True, body=j({"units": ["110101-ZJW"], "task": "help"}),
      special={"lighting": (FORBIDDEN, "only a street or township holding the appeal blows the whistle; "
                                       "BJ-LIGHTING is an enterprise")}),
    r("POST", APPEAL + "/parts/close", {U}, appeal=True, body=j({"unit": PART_UNIT, "reason": "not needed"}),
      last=True),
    r("POST", APPEAL + "/parts/rate", {U}, appeal=True, body=j({"unit": PART_UNIT, "rating": 5})),
    r("POST", APPEAL + "/supervise", {S}, appeal=True, body=j({"note": "please hurry"})),
    r("POST", APPEAL + "/transfer", {O}, appeal=True, body=j({"hotline": "tianjin", "reason": "it is in Tianjin"}),
      last=True),
    r("POST", APPEAL + "/link", {O}, appeal=True, body=j({"master_no": NO_SUCH_APPEAL, "kind": "related"})),
    # a part's own actions (segment co, the part asked of PART_UNIT)
    r("POST", PART + "/accept", {U}, appeal=True, body=j({})),
    r("POST", PART + "/report-in", {U}, appeal=True, body=j({"plan": "our share"})),
    r("POST", PART + "/phased-report", {U}, appeal=True, body=j({"progress": "half done"})),
    r("POST", PART + "/report", {U}, appeal=True, body=j({"result": "done"})),
    r("POST", PART + "/decline", {U}, appeal=True, body=j({"reason": "not ours"})),
    r("POST", PART + "/decline-review", {O}, appeal=True, body=j({"uphold": False})),
    # the citizen's token and the personal-data audit
    r("POST", APPEAL + "/citizen-token", {O}, appeal=True, last=True),
    # assessment (三率)
    r("GET", "/assessment/rates", {A, S, ADM}, params={"period": "2026-10", "group": "district"}),
    r("GET", "/assessment/rankings", {A, S, ADM}, params={"period": "2026-10", "unit_class": "street"}),
    r("GET", "/assessment/appeals", {A, S, ADM}, params={"period": "2026-10", "measure": "resolved"}),
    r("GET", "/assessment/exclusions", {A, S, ADM, O}),
    r("POST", "/assessment/exclusions", {O, S}, appeal=True,
      body=lambda ctx, caller: {"appeal_no": ctx.no(caller.target), "reason": "authz matrix: a review"}),
    r("GET", "/assessment/months", {A, S, ADM}),
    # whistle-summoning (吹哨报到): figures for every reader, the parts behind them scoped as appeals
    r("GET", "/assessment/whistles", {A, S, ADM}, params={"period": "2026-10", "order": "done_rate"}),
    r("GET", "/assessment/whistles/parts", {A, S, ADM}, params={"period": "2026-10", "measure": "rated"}),
    r("POST", "/assessment/months/{month}/freeze", {ADM, S}, body=j({})),
    # active governance: tasks (one at each target's place) and one problem a month
    r("POST", "/governance/tasks", {S}, body=j({"title": "authz matrix: cell", **GOVERNANCE_TASKS["lights"]})),
    r("GET", "/governance/tasks", {A, S, ADM, U}),
    r("GET", "/governance/tasks/{task_id}", {A, S, ADM, U}, task=True),
    r("POST", "/governance/tasks/{task_id}/findings", {U}, task=True, body=j({"problem_present": False, "note": "ok"})),
    r("POST", "/governance/tasks/{task_id}/inspections", {S}, task=True),
    # to the unit that owns it already: refused (409) once past the checks, so nothing changes
    r("POST", "/governance/tasks/{task_id}/reassign", {S}, task=True,
      body=lambda ctx, caller: {"unit": ctx.tasks[caller.target]["owner_unit"], "reason": "authz matrix"}),
    r("POST", "/governance/tasks/{task_id}/cancel", {S}, task=True, body=j({"reason": "authz matrix"}), last=True),
    r("GET", "/governance/themes/candidates", {A, S, ADM}, params={"period": "2026-09"}),
    r("GET", "/governance/themes", {A, S, ADM}, params={"year": 2026}),
    r("GET", "/governance/themes/{month}", {A, S, ADM}),
    r("POST", "/governance/themes", {S}, body=j({"month": THEME_MONTH, "title": "authz matrix", "problems": [
        {"title": "a", **GOVERNANCE_TASKS["lights"]}, {"title": "b", **GOVERNANCE_TASKS["lights"]}]}),
      special={name: (FORBIDDEN, "the month's theme is the city's: a district supervisor may not pick it")
               for name in ("dongcheng-sup", "dongcheng-sup@own")}),
    # high-frequency problems, topics, recurring problems
    r("GET", "/analytics/hotspots", {A, S, ADM}, params={"period": "2026-10", "bucket": "week"}),
    r("GET", "/analytics/rising", {A, S, ADM}, params={"period": "2026-10", "place": "street"}),
    r("GET", "/analytics/topics", {A, S, ADM}, params={"period": "2026-10"}),
    r("GET", "/analytics/recurring", {A, S, ADM}, params={"period": "2026-10"}),
    r("GET", "/analytics/drilldown", {A, S, ADM}, params={"period": "2026-10", "topic": "路灯"}),
    # Open311 GeoReport v2: public reads whoever calls; filing needs a channel's api_key (none here),
    # whatever token comes with it (tests/api/test_open311.py files and follows with keys)
    r("GET", OPEN311 + "/services.{fmt}", PUBLIC, open311=True),
    r("GET", OPEN311 + "/services/{service_code}.{fmt}", PUBLIC, open311=True),
    r("POST", OPEN311 + "/requests.{fmt}", PUBLIC, open311=True,
      special={c.name: (FORBIDDEN, "no api_key: a staff or citizen token never files through Open311")
               for c in CALLERS}),
    r("GET", OPEN311 + "/requests.{fmt}", PUBLIC, open311=True),
    r("GET", OPEN311 + "/requests/{service_request_id}.{fmt}", PUBLIC, open311=True),
    r("GET", OPEN311 + "/tokens/{token}.{fmt}", PUBLIC, open311=True,
      special={c.name: (HIDDEN, "not a token Open311 issued") for c in CALLERS}),
    r("GET", OPEN311 + "/servicerequestupdates.{fmt}", PUBLIC, open311=True),
]

#: served, but not part of the OpenAPI schema
OUTSIDE_SCHEMA = {("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/metrics")}


def expected(route: Route, caller: Caller, ctx: Ctx) -> frozenset[int]:
    if caller.name in route.special:
        return route.special[caller.name][0]
    through = OK if route.read else PASSED
    if route.who is None:
        return OK
    if caller.kind in ("anonymous", "forged"):
        return UNAUTHORIZED
    if caller.kind == "citizen":
        if not route.citizen:
            return UNAUTHORIZED
        return through if caller.target == "lights" else HIDDEN
    if ROLES[caller.user].role not in route.who:
        return FORBIDDEN
    if route.appeal and not caller.sees(ctx):
        return HIDDEN
    if route.task and not caller.sees_task(ctx):
        return HIDDEN
    return through


#: known holes: (method, path, caller) → what is wrong (the cell is xfail(strict=True) until fixed)
HOLES: dict[tuple[str, str, str], str] = {}


def _cells():
    ordered = sorted(ROUTES, key=lambda route: route.last)  # stable: declaration order otherwise
    for route in ordered:
        for caller in CALLERS:
            marks = []
            hole = HOLES.get((route.method, route.path, caller.name))
            if hole:
                marks.append(pytest.mark.xfail(strict=True, reason=f"HOLE: {hole}"))
            yield pytest.param(route, caller, id=f"{route.method} {route.path} [{caller.name}]", marks=marks)


CELLS = list(_cells())


@pytest.mark.parametrize(("route", "caller"), CELLS)
async def test_authz_cell(api, ctx: Ctx, route: Route, caller: Caller):
    url = route.path.format(appeal_no=ctx.no(caller.target), segment="co", unit=PART_UNIT, code="BJ-LIGHTING",
                            month="2026-09", task_id=ctx.tasks[caller.target]["id"], fmt="json",
                            service_code="MUNI.STREETLIGHT", service_request_id=ctx.no(caller.target),
                            token=f"{ctx.no(caller.target)}.forged")
    kwargs: dict[str, Any] = {"headers": caller.headers(ctx)}
    if route.body is not None:
        kwargs["json"] = route.body(ctx, caller)
    if route.params:
        kwargs["params"] = route.params
    response = await api.request(route.method, url, **kwargs)
    status, want = response.status_code, expected(route, caller, ctx)
    cell = f"{route.method} {url} as {caller.name}: {status} {response.text[:300]}"
    assert status < 500, cell
    assert status in want, f"expected {sorted(want)}; {cell}"

    if route.path in ("/docs", "/metrics"):  # a page, and Prometheus' text format
        return
    body = response.json()
    if route.open311:  # the spec's error list, not jiesu's error shape
        assert status < 400 or body == [{"code": status, "description": body[0]["description"]}], cell
        return
    if status >= 400:
        error = body["error"]
        assert error["code"] == {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status, error["code"]), cell
        # bodies are meant to be valid: a 422 must be a business rule, not the request's shape
        assert not (status == 422 and error["message"].startswith("invalid input")), cell
        if status == 404:
            # hidden because of the appeal itself (not a missing part or unit)
            assert error["message"].startswith("governance task " if route.task else "appeal "), cell
    if route.path.endswith("/citizen-token") and status == 200:
        ctx.citizen_token = body["citizen_token"]  # the old one stops working: keep the citizen's cells valid


# --- guards and what a status code cannot show -----------------------------------------------


async def test_every_route_is_declared(api):
    paths = (await api.get("/openapi.json")).json()["paths"]
    methods = {"get", "post", "put", "patch", "delete", "head", "options"}
    in_schema = {(m.upper(), p) for p, ops in paths.items() for m in ops if m in methods}
    declared = {(route.method, route.path) for route in ROUTES}
    assert len(declared) == len(ROUTES), "a route is declared twice"
    assert in_schema - declared == set(), "routes in the OpenAPI schema missing from ROUTES"
    assert declared - in_schema - OUTSIDE_SCHEMA == set(), "ROUTES declares routes the API no longer has"
    assert {name for (_, _, name) in HOLES} <= {c.name for c in CALLERS}


async def test_a_hidden_appeal_looks_exactly_like_a_missing_one(api, ctx: Ctx):
    for caller, no in (("water", ctx.lights), ("dongcheng-sup", ctx.garbage)):
        for suffix in ("", "/timeline", "/contact"):
            hidden = await api.get(f"/appeals/{no}{suffix}", headers=ctx.headers[caller])
            missing = await api.get(f"/appeals/{NO_SUCH_APPEAL}{suffix}", headers=ctx.headers[caller])
            assert hidden.status_code == missing.status_code == 404
            assert hidden.json()["error"]["message"].replace(no, "N") == missing.json()["error"]["message"].replace(
                NO_SUCH_APPEAL, "N")
    other = await api.get(f"/appeals/{NO_SUCH_APPEAL}", headers={"X-Citizen-Token": ctx.citizen_token})
    assert other.status_code == 404


async def test_lists_only_show_what_the_caller_may_see(api, ctx: Ctx):
    """The lists' counterpart of the 404: an appeal the caller may not see is not listed."""
    for caller in CALLERS:
        if caller.kind != "staff":
            continue
        for target in ("lights", "garbage"):
            no = ctx.no(target)
            page = (await api.get("/appeals", params={"q": no}, headers=ctx.headers[caller.user])).json()
            listed = no in [a["appeal_no"] for a in page["items"]]
            assert listed == Caller(caller.name, "staff", target, caller.user).sees(ctx), (caller.name, target)
    # a district supervisor cannot widen the list by asking for another district: a list of
    # appeals says so (403, as the drill-downs and /analytics do); /supervision holds it there
    r = await api.get("/appeals", params={"district": "110105", "limit": 200}, headers=ctx.headers["dongcheng-sup"])
    assert r.status_code == 403, r.text
    page = (await api.get("/supervision", params={"district": "110105", "limit": 200},
                          headers=ctx.headers["dongcheng-sup"])).json()
    assert {a["district"] for a in page["items"]} <= {"110101"}
    # nor a unit by asking for another unit
    page = (await api.get("/appeals", params={"unit": "110105-CHAOWAI", "limit": 200},
                          headers=ctx.headers["water"])).json()
    assert all("BJ-WATER" in a["units"] for a in page["items"])
    # parts: unit staff see their own unit's only (another unit is a 403), a district supervisor
    # the district's appeals', everyone else every unit's
    every_status = {"status": ["requested", "accepted", "declined", "done", "closed", "failed"]}
    lights = (await api.get(f"/appeals/{ctx.lights}", headers=ctx.headers["op"])).json()
    asked = sorted(p["unit"] for p in lights["parts"].values())  # PART_UNIT, and those the matrix asked
    assert PART_UNIT in asked
    for caller in CALLERS:
        if caller.kind != "staff":
            continue
        user = ROLES[caller.user]
        r = await api.get("/parts", params=every_status | {"appeal_no": ctx.lights}, headers=ctx.headers[caller.user])
        listed = sorted(p["unit"]["code"] for p in r.json()["items"])
        if user.role is Role.UNIT_STAFF:
            assert listed == [u for u in asked if u == user.unit_code], caller.name
        else:
            assert listed == ([] if user.district_code not in (None, "110101") else asked), caller.name
        other = await api.get("/parts", params={"unit": PART_UNIT}, headers=ctx.headers[caller.user])
        assert other.status_code == (403 if user.role is Role.UNIT_STAFF else 200), caller.name


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_bad_credential_gets_in(api, ctx: Ctx, settings, engine):
    """Expired, forged, for an unknown or a disabled account: 401 on every kind of route, even
    with the citizen's valid token alongside."""
    await ensure_users(engine, (DISABLED,), PASSWORD)
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE app_user SET active = false WHERE username = :u"), {"u": DISABLED.username})
    op = User(username="op", display_name="op", password_hash="-", role=Role.OPERATOR)
    ghost = User(username="nobody-authz", display_name="-", password_hash="-", role=Role.OPERATOR)
    disabled = User(username=DISABLED.username, display_name="-", password_hash="-", role=Role.OPERATOR)
    credentials = {
        "expired": _bearer(issue_token(settings.secret_key, op, now=time.time() - TOKEN_TTL_S - 60)),
        "other secret": _bearer(issue_token("another-secret-key-0123456789", op)),
        "unknown account": _bearer(issue_token(settings.secret_key, ghost)),
        "disabled account": _bearer(issue_token(settings.secret_key, disabled)),
        "malformed": _bearer("no-dot-at-all"),
    }
    calls = [
        ("GET", "/appeals", None),
        ("GET", f"/appeals/{ctx.lights}", None),
        ("GET", f"/appeals/{ctx.lights}/contact", None),
        ("POST", f"/appeals/{ctx.lights}/evaluation", {"resolved": True, "satisfaction": "satisfied"}),
        ("POST", f"/appeals/{ctx.lights}/supervise", {"note": "x"}),
        ("GET", "/supervision", None),
    ]
    for name, headers in credentials.items():
        for method, url, body in calls:
            for extra in ({}, {"X-Citizen-Token": ctx.citizen_token}):
                r = await api.request(method, url, headers=headers | extra, json=body)
                assert r.status_code == 401, (name, method, url, extra, r.text)
                assert r.json()["error"]["code"] == "unauthorized"
