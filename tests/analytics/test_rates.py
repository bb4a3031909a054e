"""The three rates on a hand-made set of appeals, against figures worked out by hand.

September 2026, Beijing time. Weights 0.1 / 0.5 / 0.4, "basically satisfied" counts 0.9.

Andingmen street (110101-ANDINGMEN), rubbish:
  A1 resolved, satisfied, contacted in time
  A2 resolved, basically satisfied, in time
  A3 closed unresolved (after its re-handlings), unsatisfied, contacted late
  A4 resolved, satisfied, in time — but found unreasonable on review: excluded
  A5 closed as not evaluated (in time): no valid return visit
  A6 resolved, unsatisfied, never contacted in time (None)
  base 4 (A1 A2 A3 A6): response 2/4 = 0.5, resolution 3/4 = 0.75,
  satisfaction (1 + 0.9×1)/4 = 0.475, composite 0.05 + 0.375 + 0.19 = 0.615
Donghuamen street (110101-DONGHUAMEN), rubbish:
  D1 resolved, satisfied, in time; D2 resolved, basically satisfied, in time;
  D3 resolved, satisfied, in time, closed 2026-09-01 00:10 Beijing (still 31 August in UTC)
  base 3: response 1, resolution 1, satisfaction 2.9/3, composite 0.1 + 0.5 + 0.4×2.9/3 = 0.986667
Lighting centre (BJ-LIGHTING), street lights at Andingmen:
  L1 closed unresolved yet basically satisfied, in time — closed unresolved never counts as resolved
  base 1: response 1, resolution 0, satisfaction 0.9, composite 0.1 + 0 + 0.36 = 0.46
Not in September's figures: A7 closed 2026-10-01 00:30 Beijing (30 September in UTC): October;
X1 not accepted and X2 answered on the spot (no unit); X3 still open.
August: A0 resolved, satisfied, in time: Andingmen's composite was 1.0.
District 110101 in September: base 8, contacted in time 6, resolved 6, satisfied 3, basically 3:
  response 0.75, resolution 0.75, satisfaction 5.7/8 = 0.7125, composite 0.075 + 0.375 + 0.285 = 0.735
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import pytest_asyncio
import sqlalchemy as sa

from analytics import exclusions, rates
from analytics.periods import Period
from analytics.rates import Counts, Dimension, Measure, Rates, Scope, UnitClass, Weights
from domain.calendar import CHINA_TZ
from tests.analytics.conftest import add_appeal

W = Weights(0.1, 0.5, 0.4, 0.9)
SEPT = Period.month(2026, 9)
AND, DHM, LIGHT = "110101-ANDINGMEN", "110101-DONGHUAMEN", "BJ-LIGHTING"
RUBBISH, LIGHTS = "CITY.GARBAGE", "MUNI.STREETLIGHT"


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


CASES = [
    # no, unit, street, category, closed, outcome, satisfaction, in time
    ("A1", AND, AND, RUBBISH, bj(2026, 9, 3, 10), "resolved", "satisfied", True),
    ("A2", AND, AND, RUBBISH, bj(2026, 9, 8, 10), "resolved", "basically_satisfied", True),
    ("A3", AND, AND, RUBBISH, bj(2026, 9, 12, 10), "unresolved", "unsatisfied", False),
    ("A4", AND, AND, RUBBISH, bj(2026, 9, 14, 10), "resolved", "satisfied", True),
    ("A5", AND, AND, RUBBISH, bj(2026, 9, 20, 10), "not_evaluated", None, True),
    ("A6", AND, AND, RUBBISH, bj(2026, 9, 25, 10), "resolved", "unsatisfied", None),
    ("A7", AND, AND, RUBBISH, bj(2026, 10, 1, 0, 30), "resolved", "satisfied", True),
    ("A0", AND, AND, RUBBISH, bj(2026, 8, 20, 10), "resolved", "satisfied", True),
    ("D1", DHM, DHM, RUBBISH, bj(2026, 9, 5, 10), "resolved", "satisfied", True),
    ("D2", DHM, DHM, RUBBISH, bj(2026, 9, 15, 10), "resolved", "basically_satisfied", True),
    ("D3", DHM, DHM, RUBBISH, bj(2026, 9, 1, 0, 10), "resolved", "satisfied", True),
    ("L1", LIGHT, AND, LIGHTS, bj(2026, 9, 9, 10), "unresolved", "basically_satisfied", True),
    ("X1", None, AND, RUBBISH, bj(2026, 9, 9, 10), "not_accepted", None, None),
    ("X2", None, AND, RUBBISH, bj(2026, 9, 9, 11), "resolved", "satisfied", None),
]


@pytest_asyncio.fixture(scope="module")
async def data(own_engine):
    async with own_engine.begin() as conn:
        for no, unit, street, cat, closed, outcome, sat, in_time in CASES:
            await add_appeal(
                conn, f"T-{no}", unit=unit, category=cat, district="110101", street=street,
                received_at=closed - timedelta(days=3),
                closed_at=closed, outcome=outcome, satisfaction=sat, contacted_in_time=in_time,
            )
        await add_appeal(conn, "T-X3", unit=AND, category=RUBBISH, district="110101", street=AND,
                         received_at=bj(2026, 9, 10), contacted_in_time=True)
        await exclusions.review(conn, "T-A4", excluded=True, reason="the same caller, 40 calls a day",
                                username="op", role="operator")
    return own_engine


def approx(value):
    return pytest.approx(value, abs=1e-6)


async def test_unit_figures_match_the_hand_worked_ones(data):
    async with data.connect() as conn:
        by_unit = await rates.counts_by(conn, SEPT, Dimension.UNIT)
    assert set(by_unit) == {AND, DHM, LIGHT}
    # no citizen was asked whether the unit got in touch: the units' own records count
    assert by_unit[AND] == Counts(closed=6, excluded=1, not_evaluated=1, base=4, contacted_in_time=2,
                                  responded=2, resolved=3, satisfied=1, basically_satisfied=1)
    r = Rates.of(by_unit[AND], W)
    assert (r.response, r.resolution, r.satisfaction, r.composite) == (
        approx(0.5), approx(0.75), approx(0.475), approx(0.615))
    r = Rates.of(by_unit[DHM], W)
    assert by_unit[DHM].base == 3  # D3 closed just after midnight on 1 September, Beijing time
    assert (r.response, r.resolution, r.satisfaction, r.composite) == (
        approx(1.0), approx(1.0), approx(2.9 / 3), approx(0.1 + 0.5 + 0.4 * 2.9 / 3))
    r = Rates.of(by_unit[LIGHT], W)
    assert by_unit[LIGHT].resolved == 0  # closed unresolved is never resolved
    assert (r.response, r.resolution, r.satisfaction, r.composite) == (
        approx(1.0), approx(0.0), approx(0.9), approx(0.46))


async def test_district_category_and_month_groupings(data):
    async with data.connect() as conn:
        district = (await rates.counts_by(conn, SEPT, Dimension.DISTRICT))["110101"]
        by_category = await rates.counts_by(conn, SEPT, Dimension.CATEGORY)
        by_street = await rates.counts_by(conn, SEPT, Dimension.STREET)
        by_month = await rates.counts_by(conn, Period.between(bj(2026, 8, 1).date(), bj(2026, 10, 31).date()),
                                         Dimension.MONTH, Scope(unit=AND))
    assert (district.base, district.contacted_in_time, district.resolved, district.satisfied,
            district.basically_satisfied) == (8, 6, 6, 3, 3)
    r = Rates.of(district, W)
    assert (r.response, r.resolution, r.satisfaction, r.composite) == (
        approx(0.75), approx(0.75), approx(0.7125), approx(0.735))
    assert by_category[LIGHTS].base == 1 and by_category[RUBBISH].base == 7
    assert by_street[AND].base == 5  # the lights appeal happened in Andingmen too
    assert {m.strftime("%Y-%m"): c.base for m, c in by_month.items()} == {"2026-08": 1, "2026-09": 4, "2026-10": 1}


async def test_a_week_and_a_range_cut_at_beijing_midnight(data):
    async with data.connect() as conn:
        first_day = await rates.counts_by(conn, Period.parse("2026-09"), None, Scope(unit=DHM))
        last_day = await rates.counts_by(conn, Period.between(bj(2026, 9, 30).date(), bj(2026, 9, 30).date()),
                                         None, Scope(unit=AND))
        october_first = await rates.counts_by(conn, Period.between(bj(2026, 10, 1).date(), bj(2026, 10, 1).date()),
                                              None, Scope(unit=AND))
    assert first_day[None].base == 3
    assert last_day == {}
    assert october_first[None].base == 1


async def test_rankings_within_class_with_ties_and_min_base():
    counts = {
        "s1": Counts(base=4, responded=2, resolved=3, satisfied=1, basically_satisfied=1),
        "s2": Counts(base=3, responded=3, resolved=3, satisfied=2, basically_satisfied=1),
        "s3": Counts(base=8, responded=4, resolved=6, satisfied=2, basically_satisfied=2),  # = s1's rates
        "s4": Counts(closed=2, not_evaluated=2),  # no base: listed, unranked
    }
    ranked = rates.rank(counts, W)
    assert [(r.unit, r.rank) for r in ranked] == [("s2", 1), ("s3", 2), ("s1", 2), ("s4", None)]
    assert [(r.unit, r.rank) for r in rates.rank(counts, W, min_base=4)] == [
        ("s3", 1), ("s1", 1), ("s2", None), ("s4", None)]


async def test_drilldown_lists_exactly_the_appeals_behind_each_figure(data):
    async with data.connect() as conn:
        counts = (await rates.counts_by(conn, SEPT, Dimension.UNIT))[AND]
        for measure, expected in [
            (Measure.CLOSED, {"A1", "A2", "A3", "A4", "A5", "A6"}),
            (Measure.BASE, {"A1", "A2", "A3", "A6"}),
            (Measure.EXCLUDED, {"A4"}),
            (Measure.NOT_EVALUATED, {"A5"}),
            (Measure.CONTACTED_IN_TIME, {"A1", "A2"}),
            (Measure.CONTACTED_LATE, {"A3", "A6"}),
            (Measure.RESOLVED, {"A1", "A2", "A6"}),
            (Measure.UNRESOLVED, {"A3"}),
            (Measure.SATISFIED, {"A1"}),
            (Measure.BASICALLY_SATISFIED, {"A2"}),
            (Measure.UNSATISFIED, {"A3", "A6"}),
        ]:
            total, items = await rates.drilldown(conn, SEPT, measure, Scope(unit=AND), limit=100, offset=0)
            assert {i["appeal_no"].removeprefix("T-") for i in items} == expected, measure
            assert total == len(expected)
            if measure.value in counts.to_json():
                assert total == counts.to_json()[measure.value], measure
        total, page = await rates.drilldown(conn, SEPT, Measure.BASE, Scope(unit=AND), limit=2, offset=2)
        assert total == 4 and [i["appeal_no"] for i in page] == ["T-A3", "T-A6"]  # by closing time


async def test_a_frozen_month_keeps_its_figures_and_its_appeals(own_engine, data):
    now = bj(2026, 11, 1, 2)
    async with own_engine.begin() as conn:
        assert await rates.freeze(conn, SEPT, by="test", weights=W, now=now) == (10, True)  # 6 + 3 + 1 closed
        assert await rates.freeze(conn, SEPT, by="test", weights=W, now=now) == (10, False)
    async with own_engine.connect() as conn:
        frozen = await rates.counts_by(conn, SEPT, Dimension.UNIT)
        assert await rates.frozen_months(conn, SEPT) == [SEPT.start]
    # a review after the freeze changes the live rows, not the frozen month
    async with own_engine.begin() as conn:
        await exclusions.review(conn, "T-A1", excluded=True, reason="found malicious later", username="sup",
                                role="supervisor")
    async with own_engine.connect() as conn:
        assert await rates.counts_by(conn, SEPT, Dimension.UNIT) == frozen
        _, items = await rates.drilldown(conn, SEPT, Measure.BASE, Scope(unit=AND), limit=10, offset=0)
        assert {i["appeal_no"] for i in items} == {"T-A1", "T-A2", "T-A3", "T-A6"} and all(i["frozen"] for i in items)
        # a range straddling the frozen month reads September frozen and October live
        both = await rates.counts_by(conn, Period.between(bj(2026, 9, 1).date(), bj(2026, 10, 31).date()),
                                     None, Scope(unit=AND))
        assert both[None].base == 4 + 1
    # an administrator's refreeze captures the correction
    async with own_engine.begin() as conn:
        assert await rates.freeze(conn, SEPT, by="admin", weights=W, now=now, refreeze=True) == (10, True)
        assert (await rates.counts_by(conn, SEPT, Dimension.UNIT))[AND].base == 3
        await exclusions.review(conn, "T-A1", excluded=False, reason="reinstated on appeal", username="sup",
                                role="supervisor")
        await rates.freeze(conn, SEPT, by="admin", weights=W, now=now, refreeze=True)
        # two frozen months and live days on both sides: July (live, empty), August and September
        # (frozen), October (live)
        assert await rates.freeze(conn, Period.month(2026, 8), by="t", weights=W, now=now) == (1, True)
        spread = await rates.counts_by(conn, Period.between(bj(2026, 7, 20).date(), bj(2026, 10, 5).date()),
                                       Dimension.MONTH, Scope(unit=AND))
        assert await rates.frozen_months(conn, Period.parse("2026")) == [date(2026, 8, 1), date(2026, 9, 1)]
        assert {m.strftime("%Y-%m"): c.base for m, c in spread.items()} == {"2026-08": 1, "2026-09": 4, "2026-10": 1}


async def test_a_month_not_over_cannot_be_frozen(own_engine):
    async with own_engine.begin() as conn:
        with pytest.raises(rates.FreezeError, match="not over yet"):
            await rates.freeze(conn, Period.month(2026, 10), by="t", weights=W, now=bj(2026, 10, 31, 23, 59))
        with pytest.raises(rates.FreezeError, match="whole months"):
            await rates.freeze(conn, Period.parse("2026-W40"), by="t", weights=W, now=bj(2026, 12, 1))


async def test_reviews_are_audited_and_append_only(own_engine, data):
    async with own_engine.begin() as conn:
        with pytest.raises(exclusions.ReviewRefused, match="already excluded"):
            await exclusions.review(conn, "T-A4", excluded=True, reason="again", username="op", role="operator")
        with pytest.raises(exclusions.ReviewRefused, match="never with a unit"):
            await exclusions.review(conn, "T-X2", excluded=True, reason="no", username="op", role="operator")
        assert await exclusions.review(conn, "NOPE", excluded=True, reason="no", username="op", role="operator") is None
    async with own_engine.connect() as conn:
        total, items = await exclusions.reviews(conn, appeal_no="T-A4", since=None, until=None, limit=10, offset=0)
        assert total == 1 and items[0].reason == "the same caller, 40 calls a day" and items[0].username == "op"
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with own_engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM assessment_exclusion WHERE appeal_no = 'T-A4'"))


def test_unit_classes_cover_every_kind():
    from domain.types import UnitKind

    assert set(rates.UNIT_CLASS) == set(UnitKind)
    assert {rates.UNIT_CLASS[UnitKind.STREET], rates.UNIT_CLASS[UnitKind.TOWNSHIP]} == {UnitClass.STREET}
