"""High-frequency problems on a hand-made set of appeals (Beijing time).

October 2026 against September:
  street lights (MUNI.STREETLIGHT) in Dongcheng 110101: 5 now (3 at Andingmen, 2 at Donghuamen),
      1 before → +4; the first of October's is received 2026-10-01 00:10 Beijing (still
      30 September in UTC) and counts in October
  rubbish (CITY.GARBAGE) in Chaoyang 110105: 6 now, 6 before → 0 (the largest)
  heating not warm (UTIL.HEAT.NOHEAT) in Haidian 110108: 3 now, none before → +3
  illegal parking (PARKING.ILLEGAL) in Xicheng 110102: 1 now, 4 before → -3
  water outage (UTIL.WATER.OUTAGE) with no district: 2 now, 1 before → +1
  August (not counted): 2 street lights in Dongcheng
  total: October 17, September 12
"""

from __future__ import annotations

from datetime import date, datetime

import pytest_asyncio

from analytics import hotspots
from analytics.hotspots import Filters
from analytics.periods import Period
from domain.calendar import CHINA_TZ
from tests.analytics.conftest import add_appeal

OCT = Period.month(2026, 10)
LIGHTS, RUBBISH, HEAT, PARKING, WATER = (
    "MUNI.STREETLIGHT", "CITY.GARBAGE", "UTIL.HEAT.NOHEAT", "PARKING.ILLEGAL", "UTIL.WATER.OUTAGE")
AND, DHM, CHAOWAI = "110101-ANDINGMEN", "110101-DONGHUAMEN", "110105-CHAOWAI"


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def _appeals():
    """(number, category, district, street, received)"""
    rows = [
        ("L-OCT-1", LIGHTS, "110101", AND, bj(2026, 10, 1, 0, 10)),
        ("L-OCT-2", LIGHTS, "110101", AND, bj(2026, 10, 9, 9)),
        ("L-OCT-3", LIGHTS, "110101", AND, bj(2026, 10, 20, 9)),
        ("L-OCT-4", LIGHTS, "110101", DHM, bj(2026, 10, 21, 9)),
        ("L-OCT-5", LIGHTS, "110101", DHM, bj(2026, 10, 31, 23, 50)),
        ("L-SEP-1", LIGHTS, "110101", AND, bj(2026, 9, 30, 23, 50)),
        ("L-AUG-1", LIGHTS, "110101", AND, bj(2026, 8, 31, 12)),
        ("L-AUG-2", LIGHTS, "110101", AND, bj(2026, 8, 3, 12)),
        ("H-OCT-1", HEAT, "110108", None, bj(2026, 10, 15, 8)),
        ("H-OCT-2", HEAT, "110108", None, bj(2026, 10, 16, 8)),
        ("H-OCT-3", HEAT, "110108", None, bj(2026, 10, 17, 8)),
        ("P-OCT-1", PARKING, "110102", None, bj(2026, 10, 2, 8)),
        ("W-OCT-1", WATER, None, None, bj(2026, 10, 3, 8)),
        ("W-OCT-2", WATER, None, None, bj(2026, 10, 4, 8)),
        ("W-SEP-1", WATER, None, None, bj(2026, 9, 4, 8)),
    ]
    rows += [(f"R-OCT-{i}", RUBBISH, "110105", CHAOWAI, bj(2026, 10, 2 + i, 10)) for i in range(6)]
    rows += [(f"R-SEP-{i}", RUBBISH, "110105", CHAOWAI, bj(2026, 9, 2 + i, 10)) for i in range(6)]
    rows += [(f"P-SEP-{i}", PARKING, "110102", None, bj(2026, 9, 10 + i, 10)) for i in range(4)]
    return rows


@pytest_asyncio.fixture(scope="module")
async def engine(own_engine):
    async with own_engine.begin() as conn:
        for no, category, district, street, received in _appeals():
            await add_appeal(conn, no, unit=None, category=category, district=district, street=street,
                             received_at=received)
    return own_engine


async def test_counts_per_category_and_district_against_the_month_before(engine):
    async with engine.connect() as conn:
        page = await hotspots.cells(conn, OCT)
    got = {(c.category, c.place): (c.count, c.previous) for c in page.cells}
    assert got == {
        (RUBBISH, "110105"): (6, 6),
        (LIGHTS, "110101"): (5, 1),
        (HEAT, "110108"): (3, 0),
        (WATER, None): (2, 1),
        (PARKING, "110102"): (1, 4),
    }
    assert [(c.category, c.place) for c in page.cells][:2] == [(RUBBISH, "110105"), (LIGHTS, "110101")]
    assert (page.total, page.total_previous, page.total_cells) == (17, 12, 5)


async def test_one_problem_a_month_candidates_are_the_largest_and_the_rising(engine):
    async with engine.connect() as conn:
        got = await hotspots.propose_candidates(conn, OCT, limit=3)
    assert [(c["category"], c["district"], c["reasons"]) for c in got] == [
        (RUBBISH, "110105", ["largest"]),
        (LIGHTS, "110101", ["rising", "largest"]),
        (HEAT, "110108", ["rising", "largest"]),  # third largest too
    ]
    lights = got[1]
    assert (lights["count"], lights["previous"], lights["change"], lights["change_pct"]) == (5, 1, 4, 4.0)
    assert lights["examples"] == ["L-OCT-5", "L-OCT-4", "L-OCT-3"]  # the latest of the month
    assert (lights["category_name_zh"], lights["district_name_zh"]) == ("路灯不亮/路灯故障", "东城区")
    assert got[2]["change_pct"] is None  # none before: no percentage
    assert all(len(c["examples"]) <= 3 for c in got)


async def test_streets_filters_rising_and_paging(engine):
    async with engine.connect() as conn:
        streets = await hotspots.cells(conn, OCT, place="street", filters=Filters(district="110101"))
        assert {(c.place, c.count, c.previous) for c in streets.cells} == {(AND, 3, 1), (DHM, 2, 0)}
        # L-SEP-1 and both August appeals were at Andingmen: only September's counts as before
        rising = await hotspots.cells(conn, OCT, order="rising", rising_only=True, min_count=2)
        assert [(c.category, c.change) for c in rising.cells] == [(LIGHTS, 4), (HEAT, 3), (WATER, 1)]
        nowhere = await hotspots.cells(conn, OCT, filters=Filters(district="none"))
        assert [(c.category, c.place, c.count) for c in nowhere.cells] == [(WATER, None, 2)]
        themes = await hotspots.cells(conn, OCT, category_level="theme", filters=Filters(category="UTIL"))
        assert {(c.category, c.place, c.count) for c in themes.cells} == {("UTIL", "110108", 3), ("UTIL", None, 2)}
        past = await hotspots.cells(conn, OCT, limit=2, offset=10)
        assert past.cells == [] and (past.total_cells, past.total) == (5, 17)
        second = await hotspots.cells(conn, OCT, limit=2, offset=2)
        assert [c.category for c in second.cells] == [HEAT, WATER]


async def test_weekly_series_and_examples(engine):
    async with engine.connect() as conn:
        page = (await hotspots.cells(conn, OCT, filters=Filters(category=LIGHTS))).cells
        weeks = await hotspots.series(conn, OCT, page, bucket="week")
        await hotspots.add_examples(conn, OCT, page, per_cell=2)
    # 2026-10-01 is a Thursday: its week starts on Monday 28 September
    assert weeks[(LIGHTS, "110101")] == {
        date(2026, 9, 28): 1, date(2026, 10, 5): 1, date(2026, 10, 19): 2, date(2026, 10, 26): 1}
    assert page[0].examples == ["L-OCT-5", "L-OCT-4"]


async def test_the_drilldown_lists_the_appeals_behind_a_count(engine):
    async with engine.connect() as conn:
        total, rows = await hotspots.drilldown(conn, OCT, filters=Filters(category=LIGHTS, district="110101"))
        assert total == 5 and [r["appeal_no"] for r in rows] == ["L-OCT-5", "L-OCT-4", "L-OCT-3", "L-OCT-2", "L-OCT-1"]
        total, rows = await hotspots.drilldown(conn, OCT.previous(), filters=Filters(category=LIGHTS), limit=1)
        assert total == 1 and rows[0]["appeal_no"] == "L-SEP-1" and rows[0]["street"] == AND
        exact = await hotspots.drilldown(conn, OCT, filters=Filters(category="UTIL", subcategories=False))
        assert exact == (0, [])
