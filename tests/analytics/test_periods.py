from datetime import date

import pytest

from analytics.periods import Period, PeriodError, resolve


@pytest.mark.parametrize(
    ("text", "start", "end", "previous"),
    [
        ("2026-10", date(2026, 10, 1), date(2026, 11, 1), "2026-09"),
        ("2026-01", date(2026, 1, 1), date(2026, 2, 1), "2025-12"),
        ("2026-12", date(2026, 12, 1), date(2027, 1, 1), "2026-11"),
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 5), "2025-W52"),
        ("2026", date(2026, 1, 1), date(2027, 1, 1), "2025"),
    ],
)
def test_parse(text, start, end, previous):
    p = Period.parse(text)
    assert (p.start, p.end, p.label, p.previous().label) == (start, end, text, previous)


def test_ranges_include_both_days_and_go_back_by_their_length():
    p = Period.between(date(2026, 10, 1), date(2026, 10, 15))
    assert p.days == 15 and p.label == "2026-10-01..2026-10-15"
    assert (p.previous().start, p.previous().last) == (date(2026, 9, 16), date(2026, 9, 30))
    assert p.bounds()[0].isoformat() == "2026-10-01T00:00:00+08:00"


def test_whole_months_inside_a_range():
    p = Period.between(date(2026, 7, 20), date(2026, 10, 31))
    assert [m.label for m in p.months()] == ["2026-08", "2026-09", "2026-10"]
    assert Period.parse("2026-W40").months() == []


@pytest.mark.parametrize(
    ("period", "first", "last", "why"),
    [
        ("2026-13", None, None, "not a valid period"),
        ("next month", None, None, "not a period"),
        ("2026-W54", None, None, "not a valid period"),
        ("0001", None, None, "between"),
        ("9999-12", None, None, "not a valid period|between"),
        ("2150-01", None, None, "between"),
        (None, date(2026, 10, 2), None, "go together"),
        (None, date(2026, 10, 2), date(2026, 10, 1), "before"),
        ("2026-10", date(2026, 10, 1), date(2026, 10, 2), "not both"),
        (None, date(2020, 1, 1), date(2026, 1, 1), "at most"),
    ],
)
def test_refusals_say_why(period, first, last, why):
    with pytest.raises(PeriodError, match=why):
        resolve(period, first, last)


def test_default_is_the_month_so_far():
    assert resolve(None, None, None, today=date(2026, 11, 22)).label == "2026-11"
