"""The assessment API over a hand-made month: figures, rankings, drill-down, CSV, reviews, freezing."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest_asyncio

from api.main import create_app
from db.users import DemoUser, ensure_users
from domain.calendar import CHINA_TZ
from domain.types import Role
from tests.analytics.conftest import add_appeal
from tests.api.conftest import serve
from tests.conftest import settings_for

PASSWORD = "test-password-1"
USERS = (
    DemoUser("an", "Analyst", Role.ANALYST),
    DemoUser("op", "Operator", Role.OPERATOR),
    DemoUser("sup", "City supervision", Role.SUPERVISOR),
    DemoUser("sup-cy", "Chaoyang supervision", Role.SUPERVISOR, None, "110105"),
    DemoUser("adm", "Administrator", Role.ADMINISTRATOR),
    DemoUser("unit", "Andingmen street", Role.UNIT_STAFF, "110101-ANDINGMEN"),
)
AND, DHM = "110101-ANDINGMEN", "110101-DONGHUAMEN"


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


@pytest_asyncio.fixture(scope="module")
async def client(own_db, own_engine):
    async with own_engine.begin() as conn:
        rows = [
            # October: Andingmen 3 (2 resolved satisfied, 1 unresolved unsatisfied late), Donghuamen 1 perfect
            ("O1", AND, bj(2026, 10, 5), "resolved", "satisfied", True),
            ("O2", AND, bj(2026, 10, 6), "resolved", "satisfied", True),
            ("O3", AND, bj(2026, 10, 7), "unresolved", "unsatisfied", False),
            ("O4", DHM, bj(2026, 10, 8), "resolved", "satisfied", True),
            # September: Donghuamen worse than Andingmen
            ("S1", AND, bj(2026, 9, 5), "resolved", "satisfied", True),
            ("S2", DHM, bj(2026, 9, 6), "unresolved", "unsatisfied", False),
            ("S3", "BJ-LIGHTING", bj(2026, 9, 7), "resolved", "basically_satisfied", True),
        ]
        for no, unit, closed, outcome, sat, in_time in rows:
            await add_appeal(conn, f"Q-{no}", unit=unit, category="CITY.GARBAGE", district="110101",
                             street=unit if unit != "BJ-LIGHTING" else AND, received_at=closed - timedelta(days=2),
                             closed_at=closed, outcome=outcome, satisfaction=sat, contacted_in_time=in_time,
                             content="小区门口垃圾堆放没人清运")
    settings = settings_for(own_db)
    await ensure_users(own_engine, USERS, PASSWORD)
    async with serve(create_app(settings, engine=own_engine)) as c:
        c.headers_for = {}
        for u in USERS:
            r = await c.post("/auth/token", json={"username": u.username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            c.headers_for[u.username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        yield c


async def test_rates_per_unit_with_the_previous_month(client):
    r = await client.get("/assessment/rates?period=2026-10&group=unit", headers=client.headers_for["an"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"] == {"label": "2026-10", "grain": "month", "from": "2026-10-01", "to": "2026-10-31"}
    assert body["previous_period"]["label"] == "2026-09"
    rows = {row["key"]: row for row in body["rows"]}
    a = rows[AND]
    assert a["name_zh"] and a["unit_class"] == "street"
    assert a["counts"]["base"] == 3
    assert a["rates"]["resolution"] == round(2 / 3, 6)
    # 0.1 × 2/3 + 0.5 × 2/3 + 0.4 × 2/3
    assert a["rates"]["composite"] == round(2 / 3, 6)
    assert a["previous"]["rates"]["composite"] == 1.0
    assert a["change"]["composite"] == round(2 / 3 - 1, 6)
    assert body["total"]["counts"]["base"] == 4


async def test_rankings_compare_streets_with_streets_only(client):
    r = await client.get("/assessment/rankings?period=2026-10&unit_class=street", headers=client.headers_for["sup"])
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [(x["unit"], x["rank"], x["previous_rank"]) for x in rows] == [(DHM, 1, 2), (AND, 2, 1)]
    r = await client.get("/assessment/rankings?period=2026-09&unit_class=public_service",
                         headers=client.headers_for["sup"])
    assert [(x["unit"], x["rank"]) for x in r.json()["rows"]] == [("BJ-LIGHTING", 1)]


async def test_drilldown_and_csv(client):
    h = client.headers_for["an"]
    r = await client.get(f"/assessment/appeals?period=2026-10&unit={AND}&measure=unresolved", headers=h)
    assert r.status_code == 200, r.text
    assert [i["appeal_no"] for i in r.json()["items"]] == ["Q-O3"] and r.json()["total"] == 1
    r = await client.get("/assessment/rates?period=2026-10&group=district&format=csv", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="rates-district-2026-10.csv"' in r.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert [(t["key"], t["name_zh"], t["base"]) for t in table] == [("110101", "东城区", "4")]
    r = await client.get(f"/assessment/appeals?period=2026-10&unit={AND}&format=csv", headers=h)
    assert r.text.lstrip("\ufeff").splitlines()[0].startswith("appeal_no,unit,district")
    assert len(r.text.strip().splitlines()) == 1 + 3


async def test_bad_periods_and_roles_are_refused_with_reasons(client):
    h = client.headers_for["an"]
    for query, field in [
        ("period=2026-13", "period"), ("period=soon", "period"), ("from=2026-10-05", "period"),
        ("from=2026-10-05&to=2026-10-01", "period"), ("period=2026-10&from=2026-10-01&to=2026-10-02", "period"),
        ("from=2020-01-01&to=2026-01-01", "period"),
    ]:
        r = await client.get(f"/assessment/rates?{query}", headers=h)
        assert r.status_code == 422, (query, r.text)
        assert r.json()["error"]["details"]["field"] == field
    r = await client.get("/assessment/rates?group=planet", headers=h)
    assert r.status_code == 422
    r = await client.get("/assessment/rankings?period=2026-10", headers=h)
    assert r.status_code == 422  # unit_class is required
    for who in ("unit", "op"):
        r = await client.get("/assessment/rates", headers=client.headers_for[who])
        assert r.status_code == 403, who
    assert (await client.get("/assessment/rates")).status_code == 401


async def test_reviews_take_an_appeal_out_and_are_audited(client):
    h = client.headers_for["op"]
    body = {"appeal_no": "Q-O3", "reason": "the caller asked for compensation no unit can grant"}
    r = await client.post("/assessment/exclusions", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["username"] == "op" and r.json()["excluded"] is True
    again = await client.post("/assessment/exclusions", json=body, headers=h)
    assert again.status_code == 409 and "already excluded" in again.json()["error"]["message"]
    rows = {x["key"]: x for x in (await client.get("/assessment/rates?period=2026-10",
                                                    headers=client.headers_for["an"])).json()["rows"]}
    assert rows[AND]["counts"]["excluded"] == 1 and rows[AND]["rates"]["resolution"] == 1.0
    # a district supervisor elsewhere cannot even see it; unknown appeals are 404; short reasons 422
    r = await client.post("/assessment/exclusions", json=body | {"excluded": False}, headers=client.headers_for["sup-cy"])
    assert r.status_code == 404
    r = await client.post("/assessment/exclusions", json={"appeal_no": "NOPE", "reason": "whatever"}, headers=h)
    assert r.status_code == 404
    r = await client.post("/assessment/exclusions", json={"appeal_no": "Q-O3", "reason": "no"}, headers=h)
    assert r.status_code == 422
    r = await client.post("/assessment/exclusions", json=body, headers=client.headers_for["an"])
    assert r.status_code == 403
    r = await client.post("/assessment/exclusions", json=body | {"excluded": False, "reason": "reinstated"},
                          headers=client.headers_for["sup"])
    assert r.status_code == 201
    audit = (await client.get("/assessment/exclusions?appeal_no=Q-O3", headers=client.headers_for["an"])).json()
    assert [(i["excluded"], i["username"]) for i in audit["items"]] == [(False, "sup"), (True, "op")]


async def test_freezing_a_month(client):
    h = client.headers_for["adm"]
    r = await client.post("/assessment/months/2026-09/freeze", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["appeals"] == 3 and r.json()["frozen_now"] is True and r.json()["frozen_by"] == "adm"
    r = await client.post("/assessment/months/2026-09/freeze", headers=client.headers_for["sup"])
    assert r.status_code == 200 and r.json()["frozen_now"] is False
    r = await client.post("/assessment/months/2026-09/freeze", json={"refreeze": True}, headers=client.headers_for["sup"])
    assert r.status_code == 403
    far = datetime.now(CHINA_TZ) + timedelta(days=40)
    r = await client.post(f"/assessment/months/{far:%Y-%m}/freeze", headers=h)
    assert r.status_code == 409 and "not over yet" in r.json()["error"]["message"]
    r = await client.post("/assessment/months/2026-9/freeze", headers=h)
    assert r.status_code == 422
    months = (await client.get("/assessment/months?year=2026", headers=client.headers_for["an"])).json()
    assert [m["month"] for m in months] == ["2026-09"]
    body = (await client.get("/assessment/rates?period=2026-09", headers=client.headers_for["an"])).json()
    assert body["frozen_months"] == ["2026-09"] and body["total"]["counts"]["base"] == 3


async def test_the_appeals_behind_the_figures_are_held_to_a_district_supervisors_district(client):
    """The rates and rankings are the city's, for every reader (Beijing publishes its rankings);
    the appeals behind them are scoped as GET /appeals is: every appeal here is Dongcheng's."""
    chaoyang, city = client.headers_for["sup-cy"], client.headers_for["sup"]
    r = await client.get("/assessment/appeals?period=2026-10&measure=closed&district=110101", headers=chaoyang)
    assert r.status_code == 403 and r.json()["error"]["details"] == {"field": "district"}, r.text
    r = await client.get("/assessment/appeals?period=2026-10&measure=closed", headers=chaoyang)
    assert r.status_code == 200 and (r.json()["total"], r.json()["items"]) == (0, []), r.text
    r = await client.get(f"/assessment/appeals?period=2026-10&measure=closed&unit={AND}&format=csv", headers=chaoyang)
    assert len(r.text.strip().splitlines()) == 1
    assert (await client.get("/assessment/appeals?period=2026-10&measure=closed", headers=city)).json()["total"] > 0
    # the audit of reviews names appeals too
    r = await client.get("/assessment/exclusions", headers=chaoyang)
    assert r.status_code == 200 and r.json()["total"] == 0, r.text
    assert (await client.get("/assessment/exclusions", headers=city)).json()["total"] > 0
    # the figures are the city's
    r = await client.get("/assessment/rankings?period=2026-10&unit_class=street", headers=chaoyang)
    assert [x["unit"] for x in r.json()["rows"]] == [DHM, AND]
