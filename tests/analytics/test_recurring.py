"""Recurring problems on a hand-made set of appeals (Beijing time), October 2026, N = 90 days.

The weeds at 安定门内大街1号 (street 110101-ANDINGMEN, GREEN.WEEDS):
  W1 received 07-01, resolved 07-10; W2 received 09-01 (53 days later: came back, in September),
  resolved 09-05; W3 received 10-10 (35 days after W2): came back in October. One problem, its
  history W1 → W2 → W3 (W1 and W2 from before the period).
  W4 received 10-15 while nothing there was open as resolved since W2 (40 days after W2): back too.
Street lights near (39.9000, 116.4000), no address (MUNI.STREETLIGHT):
  G1 resolved 09-15; G2 received 10-12 about 150 m away: came back (by distance); G3 received
  10-13 about 300 m away: not the same place.
Not recurring:
  N1 resolved 06-01, N2 at its address received 10-05: 126 days, more than 90 (in with N = 180);
  U1 closed unresolved 09-20, U2 at its address 10-02: what was there was never "fixed";
  C1 resolved 09-20 (rubbish), C2 weeds at its address 10-03: another category;
  S1 resolved 09-20 at the same address text in another street, S2 10-04: another place;
  O1 received 10-10 and resolved 10-20, O2 at its address received 10-15: it came in while O1
  was still open (a duplicate, not a return).
Boundary: B1 resolved 09-25 (rubbish at 朝外大街5号, Chaoyang), B2 received 2026-10-01 00:30
Beijing (30 September in UTC): October's.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import pytest_asyncio
import sqlalchemy as sa

from analytics import recurring
from analytics.hotspots import Filters
from analytics.periods import Period
from analytics.recurring import backfill_returns, fill_returns
from domain.calendar import CHINA_TZ
from tests.analytics.conftest import add_appeal

OCT = Period.month(2026, 10)
AND, CHAOWAI, DHM = "110101-ANDINGMEN", "110105-CHAOWAI", "110101-DONGHUAMEN"
WEEDS, LIGHTS, RUBBISH = "GREEN.WEEDS", "MUNI.STREETLIGHT", "CITY.GARBAGE"
ADDR = "安定门内大街1号"


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def _appeals():
    """(number, category, district, street, address, (lat, lon), received, closed, outcome)"""
    lat, lon = 39.9, 116.4
    return [
        ("W1", WEEDS, "110101", AND, ADDR, None, bj(2026, 7, 1, 9), bj(2026, 7, 10, 9), "resolved"),
        ("W2", WEEDS, "110101", AND, ADDR, None, bj(2026, 9, 1, 9), bj(2026, 9, 5, 9), "resolved"),
        ("W3", WEEDS, "110101", AND, ADDR, None, bj(2026, 10, 10, 9), None, None),
        ("W4", WEEDS, "110101", AND, ADDR, None, bj(2026, 10, 15, 9), None, None),
        ("G1", LIGHTS, "110101", None, None, (lat, lon), bj(2026, 9, 10, 9), bj(2026, 9, 15, 9), "resolved"),
        ("G2", LIGHTS, "110101", None, None, (lat + 0.00135, lon), bj(2026, 10, 12, 9), None, None),
        ("G3", LIGHTS, "110101", None, None, (lat + 0.0027, lon), bj(2026, 10, 13, 9), None, None),
        ("N1", WEEDS, "110101", AND, "北锣鼓巷7号", None, bj(2026, 5, 20, 9), bj(2026, 6, 1, 9), "resolved"),
        ("N2", WEEDS, "110101", AND, "北锣鼓巷7号", None, bj(2026, 10, 5, 9), None, None),
        ("U1", WEEDS, "110101", AND, "国子监街2号", None, bj(2026, 9, 10, 9), bj(2026, 9, 20, 9), "unresolved"),
        ("U2", WEEDS, "110101", AND, "国子监街2号", None, bj(2026, 10, 2, 9), None, None),
        ("C1", RUBBISH, "110101", AND, "五道营胡同3号", None, bj(2026, 9, 10, 9), bj(2026, 9, 20, 9), "resolved"),
        ("C2", WEEDS, "110101", AND, "五道营胡同3号", None, bj(2026, 10, 3, 9), None, None),
        ("S1", WEEDS, "110101", DHM, "大街8号", None, bj(2026, 9, 10, 9), bj(2026, 9, 20, 9), "resolved"),
        ("S2", WEEDS, "110101", AND, "大街8号", None, bj(2026, 10, 4, 9), None, None),
        ("O1", WEEDS, "110101", AND, "方家胡同9号", None, bj(2026, 10, 10, 9), bj(2026, 10, 20, 9), "resolved"),
        ("O2", WEEDS, "110101", AND, "方家胡同9号", None, bj(2026, 10, 15, 9), None, None),
        ("B1", RUBBISH, "110105", CHAOWAI, "朝外大街5号", None, bj(2026, 9, 20, 9), bj(2026, 9, 25, 9), "resolved"),
        ("B2", RUBBISH, "110105", CHAOWAI, "朝外大街5号", None, bj(2026, 10, 1, 0, 30), None, None),
    ]


@pytest_asyncio.fixture(scope="module")
async def engine(own_engine):
    async with own_engine.begin() as conn:
        for no, category, district, street, address, point, received, closed, outcome in _appeals():
            lat, lon = point or (None, None)
            await add_appeal(conn, no, unit="110101-CGW", category=category, district=district, street=street,
                             address=address, latitude=lat, longitude=lon, received_at=received,
                             closed_at=closed, outcome=outcome)
        await fill_returns(conn, ["W2", "W3"])
    assert await backfill_returns(own_engine, batch=4) == len(_appeals())
    await backfill_returns(own_engine)  # again: nothing changes
    return own_engine


def _summary(page):
    return {tuple(a.appeal_no for a in p.history): p for p in page.items}


async def test_the_problems_that_came_back_in_the_month_with_their_history(engine):
    async with engine.connect() as conn:
        page = await recurring.recurring(conn, OCT)
    got = _summary(page)
    assert set(got) == {("W1", "W2", "W3", "W4"), ("G1", "G2"), ("B1", "B2")}
    assert page.total == 3
    weeds = got[("W1", "W2", "W3", "W4")]
    assert page.items[0] is weeds  # most returns in the period first
    assert (weeds.returns_in_period, weeds.returns, weeds.matched_by) == (2, 3, ["address"])
    assert (weeds.category, weeds.district, weeds.street, weeds.problem_no) == (WEEDS, "110101", AND, "W1")
    history = {a.appeal_no: a for a in weeds.history}
    assert (history["W1"].after, history["W2"].after, history["W3"].after, history["W4"].after) == (
        None, "W1", "W2", "W2")
    assert (history["W2"].came_back_after_days, history["W3"].came_back_after_days) == (53.0, 35.0)
    assert history["W1"].outcome == "resolved" and history["W1"].closed_at == bj(2026, 7, 10, 9)
    lights = got[("G1", "G2")]
    assert lights.matched_by == ["radius"] and lights.address is None


async def test_a_longer_window_finds_what_came_back_later(engine):
    async with engine.connect() as conn:
        page = await recurring.recurring(conn, OCT, within_days=180)
        short = await recurring.recurring(conn, OCT, within_days=30)
    assert ("N1", "N2") in _summary(page)
    # within 30 days: W3 (35 days) and W4 (40) are out; G2 (27 days) and B2 (6 days) are in
    assert set(_summary(short)) == {("G1", "G2"), ("B1", "B2")}


async def test_narrowed_by_place_and_by_how_places_match(engine):
    async with engine.connect() as conn:
        chaoyang = await recurring.recurring(conn, OCT, filters=Filters(district="110105"))
        by_address = await recurring.recurring(conn, OCT, match=("address",))
        lights = await recurring.recurring(conn, OCT, filters=Filters(category="MUNI"))
        paged = await recurring.recurring(conn, OCT, limit=1, offset=1)
    assert list(_summary(chaoyang)) == [("B1", "B2")]
    assert ("G1", "G2") not in _summary(by_address) and by_address.total == 2
    assert list(_summary(lights)) == [("G1", "G2")]
    assert len(paged.items) == 1 and paged.total == 3


async def test_the_previous_month_is_its_own(engine):
    async with engine.connect() as conn:
        page = await recurring.recurring(conn, Period.month(2026, 9))
    assert list(_summary(page)) == [("W1", "W2")]


async def test_a_window_outside_the_year_looked_back_is_refused(engine):
    async with engine.connect() as conn:
        with pytest.raises(ValueError):
            await recurring.recurring(conn, OCT, within_days=366)


async def test_a_chain_of_returns_is_one_problem_however_it_was_filled(engine):
    """W2 and W3 were first filled together (one statement), then everything again in batches of
    four in the order received: the chain still starts at W1."""
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT appeal_no, previous_no, problem_no FROM appeal_return WHERE appeal_no LIKE 'W%' ORDER BY 1"))).all()
    assert [tuple(r) for r in rows] == [("W2", "W1", "W1"), ("W3", "W2", "W1"), ("W4", "W2", "W1")]


async def test_an_appeal_back_by_address_and_by_distance_joins_one_problem(own_engine):
    """X2 came back after X0 by address and after Y0 (a little earlier, 100 m away) by distance:
    both its links name one problem, and X3 after it joins the same one. (In 2025, away from the
    other tests' months.)"""
    lat, lon = 39.95, 116.45
    rows = [
        ("Y0", None, (lat + 0.0009, lon), bj(2025, 8, 1, 9), bj(2025, 8, 2, 9), "resolved"),
        ("X0", "东四十条1号", None, bj(2025, 8, 3, 9), bj(2025, 8, 4, 9), "resolved"),
        ("X2", "东四十条1号", (lat, lon), bj(2025, 8, 20, 9), bj(2025, 8, 25, 9), "resolved"),
        ("X3", "东四十条1号", None, bj(2025, 9, 20, 9), None, None),
    ]
    async with own_engine.begin() as conn:
        for no, address, point, received, closed, outcome in rows:
            p_lat, p_lon = point or (None, None)
            await add_appeal(conn, no, unit="110101-CGW", category="MUNI.DRAIN", district="110101", street=AND,
                             address=address, latitude=p_lat, longitude=p_lon, received_at=received,
                             closed_at=closed, outcome=outcome)
        for no in ("X2", "X3"):  # one at a time, as at intake
            await fill_returns(conn, [no])
        got = (await conn.execute(sa.text(
            "SELECT appeal_no, matched_by, previous_no, problem_no FROM appeal_return WHERE appeal_no IN ('X2', 'X3')"
            " ORDER BY 1, 2"))).all()
    assert [tuple(r) for r in got] == [
        ("X2", "address", "X0", "X0"), ("X2", "radius", "Y0", "X0"), ("X3", "address", "X2", "X0")]
