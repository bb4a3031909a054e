"""The dual assessment of whistle-summoning on hand-made parts, against figures worked out by hand.

September 2026, Beijing time, as of NOW = 20 September 12:00. Limits: report in within a day
unless said otherwise, done within 10 days.

Yayuncun street (110105-YAYUNCUN, district 110105) summons:
  P1 (summoned 1 Sept 00:10 — still 31 August in UTC): CGW reports in in time, done in time,
     rated 5; ZJW reports in in time, done in time, rated 4
  P2 (2 Sept 10:00): CGW reports in two days late, done two days late, rated 3; ZJW reports in in
     time, then declines its part (awaiting the hotline's review)
  P4 (20 Sept 09:00): CGW summoned, not reported in yet: within both limits
  P5 (5 Sept 10:00, with a two-hour report-in limit that only the whistle's event records; the
     appeal has since gone to Chaowai street): CGW reports in at 14:00 — late — and is not done
     though its limit (15 Sept) has passed
Andingmen street (110101-ANDINGMEN, district 110101) summons:
  P3 (3 Sept 10:00): CGW never reports in; the street closes the part
Not in September: P0, CGW summoned 31 August 23:30 Beijing; P6, CGW asked to co-handle (not a
whistle) in September.

CGW: parts 5 (P1 P2 P3 P4 P5); reported in 3, in time 1 (P1); awaiting report-in 1 (P4): base 4,
  report-in rate 1/4; done 2, in time 1 (P1); not done 1 (P3), pending 1 (P4): base 3 (P1 P2 P5),
  done rate 1/3; rated 2, average (5 + 3) / 2 = 4.
ZJW: parts 2; reported in 2, in time 2: report-in rate 1; done 1, in time 1; not done 1 (P2,
  declined): base 1, done rate 1; rated 1, average 4.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
import pytest_asyncio

from analytics import whistles
from analytics.periods import Period
from analytics.whistles import Counts, Filters, Measure, Order, Rates
from api.main import create_app
from db.users import DemoUser, ensure_users
from domain.calendar import CHINA_TZ
from domain.types import Role
from tests.analytics.conftest import add_appeal, add_event, add_part
from tests.api.conftest import serve
from tests.conftest import settings_for

SEPT = Period.month(2026, 9)
CGW, ZJW = "110105-CGW", "110105-ZJW"
YAYUNCUN, CHAOWAI, ANDINGMEN = "110105-YAYUNCUN", "110105-CHAOWAI", "110101-ANDINGMEN"


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


NOW = bj(2026, 9, 20, 12)
DAY, TEN_DAYS = timedelta(days=1), timedelta(days=10)


@pytest_asyncio.fixture(scope="module")
async def data(own_engine):
    async with own_engine.begin() as conn:
        for no, street, district, unit in [
            ("P0", YAYUNCUN, "110105", YAYUNCUN), ("P1", YAYUNCUN, "110105", YAYUNCUN),
            ("P2", YAYUNCUN, "110105", YAYUNCUN), ("P3", ANDINGMEN, "110101", ANDINGMEN),
            ("P4", YAYUNCUN, "110105", YAYUNCUN), ("P5", YAYUNCUN, "110105", CHAOWAI),
            ("P6", YAYUNCUN, "110105", YAYUNCUN),
        ]:
            await add_appeal(conn, f"W-{no}", unit=unit, category="MUNI.DEADENDROAD", district=district,
                             street=street, received_at=bj(2026, 8, 30, 9))

        async def whistle(no, unit, at, **kw):
            kw.setdefault("report_in_due", at + DAY)
            await add_part(conn, f"W-{no}", unit, requested_at=at, due=at + TEN_DAYS, **kw)

        p0, p1, p2, p3, p4, p5 = (bj(2026, 8, 31, 23, 30), bj(2026, 9, 1, 0, 10), bj(2026, 9, 2, 10),
                                  bj(2026, 9, 3, 10), bj(2026, 9, 20, 9), bj(2026, 9, 5, 10))
        await whistle("P0", CGW, p0, status="done", accepted_at=p0 + timedelta(hours=1), done_at=p0 + DAY, rating=1)
        await whistle("P1", CGW, p1, status="done", accepted_at=p1 + timedelta(hours=5), done_at=p1 + 4 * DAY, rating=5)
        await whistle("P1", ZJW, p1, status="done", accepted_at=p1 + timedelta(hours=9), done_at=p1 + 7 * DAY, rating=4)
        await whistle("P2", CGW, p2, status="done", accepted_at=p2 + 2 * DAY, done_at=p2 + 12 * DAY, rating=3)
        await whistle("P2", ZJW, p2, status="declined", accepted_at=p2 + timedelta(hours=1))
        await whistle("P3", CGW, p3, status="closed")
        await whistle("P4", CGW, p4)
        await whistle("P5", CGW, p5, status="accepted", accepted_at=p5 + timedelta(hours=4), in_state=False)
        await add_event(conn, "W-P5", 3, "whistle_blown", unit=YAYUNCUN, at=p5, detail={
            "units": [CGW], "task": "t", "due": (p5 + TEN_DAYS).isoformat(),
            "report_in_due": (p5 + timedelta(hours=2)).isoformat()})
        await whistle("P6", CGW, bj(2026, 9, 6, 10), kind="co_handling", report_in_due=None, status="done",
                      accepted_at=bj(2026, 9, 6, 11), done_at=bj(2026, 9, 7, 10), rating=None)
    return own_engine


async def _counts(engine, filters=Filters(), period=SEPT) -> dict[str, Counts]:
    async with engine.connect() as conn:
        return await whistles.counts_by_unit(conn, period, filters, now=NOW)


async def _drill(engine, measure, filters) -> list[dict]:
    async with engine.connect() as conn:
        total, rows = await whistles.drilldown(conn, SEPT, measure, filters, now=NOW, limit=100, offset=0)
    assert total == len(rows)
    return rows


async def test_each_departments_figures(data):
    counts = await _counts(data)
    assert set(counts) == {CGW, ZJW}
    cgw, zjw = counts[CGW], counts[ZJW]
    assert cgw.to_json() == {
        "parts": 5, "reported_in": 3, "reported_in_in_time": 1, "awaiting_report_in": 1, "done": 2,
        "done_in_time": 1, "not_done": 1, "pending": 1, "rated": 2, "report_in_base": 4, "done_base": 3,
    }
    assert Rates.of(cgw) == Rates(report_in=0.25, done=1 / 3, rating=4.0)
    assert (zjw.parts, zjw.reported_in_in_time, zjw.report_in_base, zjw.done_in_time, zjw.not_done, zjw.done_base) \
        == (2, 2, 2, 1, 1, 1)
    assert Rates.of(zjw) == Rates(report_in=1.0, done=1.0, rating=4.0)


async def test_filters_by_the_appeals_district_and_the_street_that_summoned(data):
    dongcheng = await _counts(data, Filters(district="110101"))
    assert {u: c.parts for u, c in dongcheng.items()} == {CGW: 1}
    assert dongcheng[CGW].not_done == 1 and Rates.of(dongcheng[CGW]) == Rates(report_in=0.0, done=None, rating=None)
    # P5 went to Chaowai after the whistle; it still counts for Yayuncun, which summoned
    yayuncun = await _counts(data, Filters(street=YAYUNCUN))
    assert {u: c.parts for u, c in yayuncun.items()} == {CGW: 4, ZJW: 2}
    assert await _counts(data, Filters(street=CHAOWAI)) == {}
    assert {u: c.parts for u, c in (await _counts(data, Filters(unit=ZJW))).items()} == {ZJW: 2}


async def test_the_period_is_in_beijing_days(data):
    august = await _counts(data, period=Period.month(2026, 8))
    assert {u: c.parts for u, c in august.items()} == {CGW: 1}
    first = await _counts(data, period=Period.parse("2026-W36"))  # 31 Aug – 6 Sept
    assert first[CGW].parts == 5  # P0 P1 P2 P3 P5


async def test_the_drilldown_lists_the_parts_behind_a_figure(data):
    late = await _drill(data, Measure.REPORTED_IN_LATE, Filters(unit=CGW))
    assert [(r["appeal_no"], r["reported_in_in_time"]) for r in late] == [("W-P2", False), ("W-P3", False),
                                                                          ("W-P5", False)]
    p5 = late[2]
    # the report-in limit only the whistle's event had, and the street that blew it
    assert p5["report_in_due"] == bj(2026, 9, 5, 12) and p5["street"] == YAYUNCUN and p5["done_in_time"] is False
    assert late[1]["street"] == ANDINGMEN and late[1]["district"] == "110101" and late[1]["done_in_time"] is None
    awaiting = await _drill(data, Measure.AWAITING_REPORT_IN, Filters(unit=CGW))
    assert [(r["appeal_no"], r["reported_in_in_time"], r["done_in_time"]) for r in awaiting] == [("W-P4", None, None)]
    assert [r["appeal_no"] for r in await _drill(data, Measure.DONE_LATE, Filters(unit=CGW))] == ["W-P2", "W-P5"]
    parts = await _drill(data, Measure.PARTS, Filters(unit=CGW))
    assert [r["appeal_no"] for r in parts] == ["W-P1", "W-P2", "W-P3", "W-P5", "W-P4"]  # by summons time
    assert parts[0]["reported_in_at"] == bj(2026, 9, 1, 5, 10) and parts[0]["rating"] == 5
    rated = await _drill(data, Measure.RATED, Filters())
    assert sorted((r["appeal_no"], r["unit"], r["rating"]) for r in rated) == [
        ("W-P1", CGW, 5), ("W-P1", ZJW, 4), ("W-P2", CGW, 3)]
    declined = await _drill(data, Measure.NOT_DONE, Filters(unit=ZJW))
    assert [(r["appeal_no"], r["status"], r["reported_in_in_time"]) for r in declined] == [("W-P2", "declined", True)]
    assert await _drill(data, Measure.PARTS, Filters(unit=CGW, district="110101", street=YAYUNCUN)) == []


async def test_every_figure_adds_up_to_its_drilldown(data):
    counts = await _counts(data)
    for unit, c in counts.items():
        for measure, figure in [
            (Measure.PARTS, c.parts), (Measure.REPORTED_IN_IN_TIME, c.reported_in_in_time),
            (Measure.REPORTED_IN_LATE, c.report_in_base - c.reported_in_in_time),
            (Measure.AWAITING_REPORT_IN, c.awaiting_report_in), (Measure.DONE_IN_TIME, c.done_in_time),
            (Measure.DONE_LATE, c.done_base - c.done_in_time), (Measure.NOT_DONE, c.not_done),
            (Measure.PENDING, c.pending), (Measure.RATED, c.rated),
        ]:
            assert len(await _drill(data, measure, Filters(unit=unit))) == figure, (unit, measure)


@pytest.mark.parametrize(("order", "expected"), [
    (Order.PARTS, [(CGW, 1), (ZJW, 2)]),
    (Order.REPORT_IN_RATE, [(ZJW, 1), (CGW, 2)]),
    (Order.DONE_RATE, [(ZJW, 1), (CGW, 2)]),
    (Order.RATING, [(CGW, 1), (ZJW, 1)]),  # equal averages share a rank; more parts first
])
async def test_departments_are_ranked_by_any_figure(data, order, expected):
    ranked = whistles.rank(await _counts(data), order)
    assert [(r.unit, r.rank) for r in ranked] == expected


def test_departments_with_nothing_to_rank_on_come_last_unranked():
    counts = {"A": Counts(parts=1, awaiting_report_in=1, pending=1), "B": Counts(parts=1, rated=1, rating_sum=2),
              "C": Counts(parts=3, rated=1, rating_sum=5)}
    assert [(r.unit, r.rank) for r in whistles.rank(counts, Order.RATING)] == [("C", 1), ("B", 2), ("A", None)]
    assert [(r.unit, r.rank) for r in whistles.rank(counts, Order.REPORT_IN_RATE)] == [("C", 1), ("B", 1), ("A", None)]


# --- through the API (now is after September: every limit there has passed) --------------------

USERS = (
    DemoUser("an", "Analyst", Role.ANALYST),
    DemoUser("op", "Operator", Role.OPERATOR),
    DemoUser("sup-dc", "Dongcheng supervision", Role.SUPERVISOR, None, "110101"),
    DemoUser("cgw", "Chaoyang urban management", Role.UNIT_STAFF, CGW),
)


@pytest_asyncio.fixture(scope="module")
async def client(data, own_db):
    await ensure_users(data, USERS, "test-password-1")
    async with serve(create_app(settings_for(own_db), engine=data)) as c:
        c.headers_for = {}
        for u in USERS:
            r = await c.post("/auth/token", json={"username": u.username, "password": "test-password-1"})
            assert r.status_code == 200, r.text
            c.headers_for[u.username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        yield c


async def test_the_figures_route_ranks_departments_and_downloads(client):
    h = client.headers_for["an"]
    r = await client.get("/assessment/whistles?period=2026-09&order=report_in_rate", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"]["label"] == "2026-09" and body["order"] == "report_in_rate"
    assert [(x["rank"], x["unit"]) for x in body["rows"]] == [(1, ZJW), (2, CGW)]
    cgw = body["rows"][1]
    assert cgw["name_zh"] and cgw["counts"]["parts"] == 5
    # P4's limits have passed by now: it counts against CGW in both bases
    assert (cgw["counts"]["report_in_base"], cgw["counts"]["done_base"]) == (5, 4)
    assert cgw["rates"] == {"report_in": 0.2, "done": 0.25, "rating": 4.0}
    assert body["total"]["counts"]["parts"] == 7
    r = await client.get("/assessment/whistles?period=2026-09&format=csv", headers=h)
    assert r.status_code == 200 and 'filename="whistles-2026-09.csv"' in r.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert [(t["rank"], t["unit"], t["parts"], t["report_in_rate"], t["rating_rate"]) for t in table] == [
        ("1", CGW, "5", "0.2000", "4.0000"), ("2", ZJW, "2", "1.0000", "4.0000")]


async def test_the_drilldown_route_shows_beijing_times_and_downloads(client):
    h = client.headers_for["an"]
    r = await client.get(f"/assessment/whistles/parts?period=2026-09&unit={CGW}&measure=reported_in_late", headers=h)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["appeal_no"] for i in items] == ["W-P2", "W-P3", "W-P5", "W-P4"] and r.json()["total"] == 4
    p2 = items[0]
    assert p2["requested_at"] == "2026-09-02T10:00:00+08:00" and p2["reported_in_at"] == "2026-09-04T10:00:00+08:00"
    assert (p2["street"], p2["street_name_zh"], p2["unit_name_zh"]) == (YAYUNCUN, "亚运村街道", "朝阳区城市管理委员会")
    assert (p2["reported_in_in_time"], p2["done_in_time"], p2["rating"]) == (False, False, 3)
    r = await client.get(f"/assessment/whistles/parts?period=2026-09&unit={CGW}&measure=rated&format=csv", headers=h)
    lines = r.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("appeal_no,unit,unit_name_zh,district,street,street_name_zh,status,requested_at")
    assert len(lines) == 1 + 2 and "2026-09-01T00:10:00+08:00" in lines[1]


async def test_the_parts_are_scoped_like_appeals_and_the_roles_like_the_rates(client):
    dongcheng = client.headers_for["sup-dc"]
    r = await client.get("/assessment/whistles/parts?period=2026-09", headers=dongcheng)
    assert r.status_code == 200 and [i["appeal_no"] for i in r.json()["items"]] == ["W-P3"], r.text
    r = await client.get("/assessment/whistles/parts?period=2026-09&district=110105", headers=dongcheng)
    assert r.status_code == 403 and r.json()["error"]["details"] == {"field": "district"}
    # the figures are the city's, as the rates are
    r = await client.get("/assessment/whistles?period=2026-09", headers=dongcheng)
    assert [x["counts"]["parts"] for x in r.json()["rows"]] == [5, 2]
    for who in ("op", "cgw"):
        for path in ("/assessment/whistles", "/assessment/whistles/parts"):
            assert (await client.get(path, headers=client.headers_for[who])).status_code == 403, (who, path)
    r = await client.get("/assessment/whistles/parts?measure=late", headers=client.headers_for["an"])
    assert r.status_code == 422
    r = await client.get("/assessment/whistles?period=2026-13", headers=client.headers_for["an"])
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "period"
