"""The response rate (响应率) counts what the citizen says at the return visit, and the unit's own
record of contact within the limit only where the citizen was not asked.

October 2026, the lighting centre (BJ-LIGHTING), street lights at Andingmen:
  R1 citizen "yes", the unit recorded its contact late          → responded (citizen)
  R2 citizen "no", the unit recorded its contact in time         → not responded (citizen)
  R3 not asked, contact recorded in time                         → responded (unit's record)
  R4 not asked, contact recorded late                            → not responded (unit's record)
  R5 evaluated before the question existed (null), in time       → responded (unit's record)
  R6 citizen "yes", but closed as not evaluated                  → out of the base
  base 5, responded 3 (R1 R3 R5), the units' own record 3 (R2 R3 R5): response 3/5 = 0.6
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import pytest_asyncio

from analytics import rates
from analytics.periods import Period
from analytics.rates import Counts, Dimension, Measure, Rates, Scope, Weights
from domain.calendar import CHINA_TZ
from tests.analytics.conftest import add_appeal

W = Weights(0.1, 0.5, 0.4, 0.9)
OCT = Period.month(2026, 10)
LIGHT, AND, LIGHTS = "BJ-LIGHTING", "110101-ANDINGMEN", "MUNI.STREETLIGHT"

CASES = [
    # no, outcome, the citizen's answer, the unit's record in time, responded, source
    ("R1", "resolved", "yes", False, True, "citizen"),
    ("R2", "resolved", "no", True, False, "citizen"),
    ("R3", "resolved", "not_asked", True, True, "unit_record"),
    ("R4", "unresolved", "not_asked", False, False, "unit_record"),
    ("R5", "resolved", None, True, True, "unit_record"),
    ("R6", "not_evaluated", "yes", True, None, None),
]


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


# --- the formula, pure ----------------------------------------------------------------------


def test_the_response_rate_is_responded_over_base_not_the_units_record():
    c = Counts(closed=5, base=5, contacted_in_time=5, responded=3, resolved=5, satisfied=5)
    r = Rates.of(c, W)
    assert r.response == pytest.approx(0.6)
    assert r.composite == pytest.approx(0.1 * 0.6 + 0.5 + 0.4)


def test_responded_adds_up_with_the_other_counts():
    total = Counts(base=2, contacted_in_time=2, responded=1) + Counts(base=3, contacted_in_time=0, responded=3)
    assert (total.base, total.contacted_in_time, total.responded) == (5, 2, 4)
    assert Rates.of(total, W).response == pytest.approx(0.8)


# --- on rows --------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module")
async def data(own_engine):
    async with own_engine.begin() as conn:
        for i, (no, outcome, said, in_time, _, _) in enumerate(CASES):
            closed = bj(2026, 10, 3 + i, 10)
            await add_appeal(
                conn, f"T-{no}", unit=LIGHT, category=LIGHTS, district="110101", street=AND,
                received_at=closed - timedelta(days=3), closed_at=closed, outcome=outcome,
                satisfaction=None if outcome == "not_evaluated" else "satisfied",
                contacted_in_time=in_time, citizen_contacted=said,
            )
    return own_engine


async def test_the_citizens_answer_counts_where_given(data):
    async with data.connect() as conn:
        c = (await rates.counts_by(conn, OCT, Dimension.UNIT))[LIGHT]
    assert (c.base, c.responded, c.contacted_in_time) == (5, 3, 3)
    assert Rates.of(c, W).response == pytest.approx(0.6)


async def test_the_drilldown_shows_whose_word_counted(data):
    async with data.connect() as conn:
        _, base = await rates.drilldown(conn, OCT, Measure.BASE, Scope(unit=LIGHT), limit=50, offset=0)
        _, yes = await rates.drilldown(conn, OCT, Measure.RESPONDED, Scope(unit=LIGHT), limit=50, offset=0)
        _, no = await rates.drilldown(conn, OCT, Measure.NOT_RESPONDED, Scope(unit=LIGHT), limit=50, offset=0)
    expected = {f"T-{no}": (responded, source) for no, _, _, _, responded, source in CASES if source}
    assert {i["appeal_no"]: (i["responded"], i["response_source"]) for i in base} == expected
    assert {i["appeal_no"] for i in yes} == {"T-R1", "T-R3", "T-R5"}
    assert {i["appeal_no"] for i in no} == {"T-R2", "T-R4"}


async def test_a_frozen_month_keeps_the_citizens_answers(data):
    async with data.begin() as conn:
        assert await rates.freeze(conn, OCT, by="test", weights=W, now=bj(2026, 11, 1, 2)) == (6, True)
    async with data.connect() as conn:
        assert await rates.frozen_months(conn, OCT) == [OCT.start]
        c = (await rates.counts_by(conn, OCT, Dimension.UNIT))[LIGHT]  # from the rollup now
        _, items = await rates.drilldown(conn, OCT, Measure.BASE, Scope(unit=LIGHT), limit=50, offset=0)
    assert (c.base, c.responded, c.contacted_in_time) == (5, 3, 3)
    assert all(i["frozen"] for i in items)
    assert {i["appeal_no"]: i["response_source"] for i in items}["T-R2"] == "citizen"
    assert {i["appeal_no"]: i["citizen_contacted"] for i in items}["T-R2"] == "no"
