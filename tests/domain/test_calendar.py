from datetime import UTC, date, datetime, timedelta

import pytest

from domain.calendar import CHINA_TZ, WorkCalendar, deadline
from domain.types import DayKind, LimitUnit

# National Day 2026: 1–7 October off, Sunday 20 September and Saturday 10 October worked.
NATIONAL_DAY_2026 = WorkCalendar.from_entries(
    [(date(2026, 10, d), DayKind.HOLIDAY) for d in range(1, 8)]
    + [(date(2026, 9, 20), DayKind.WORKDAY), (date(2026, 10, 10), DayKind.WORKDAY)]
)


def cst(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def test_fifteen_working_days_from_a_sunday_end_on_the_third_friday_at_close():
    start = cst(2026, 11, 22, 10, 0)
    assert WorkCalendar().add_working_days(start, 15) == cst(2026, 12, 11, 18, 0)


def test_the_start_day_never_counts_even_at_dawn():
    assert WorkCalendar().add_working_days(cst(2026, 11, 23, 0, 1), 1) == cst(2026, 11, 24, 18)


def test_friday_evening_objection_window_runs_to_monday_close():
    assert WorkCalendar().add_working_days(cst(2026, 11, 27, 21, 0), 1) == cst(2026, 11, 30, 18)


def test_holidays_are_skipped_and_adjusted_weekend_workdays_count():
    # dispatched Wednesday 30 September: the next working day is Thursday 8 October
    assert NATIONAL_DAY_2026.add_working_days(cst(2026, 9, 30, 9), 1) == cst(2026, 10, 8, 18)
    # Friday 9 October + 1 working day = Saturday 10 October (a make-up working day)
    assert NATIONAL_DAY_2026.add_working_days(cst(2026, 10, 9, 9), 1) == cst(2026, 10, 10, 18)
    assert NATIONAL_DAY_2026.is_working_day(date(2026, 9, 20))
    assert not NATIONAL_DAY_2026.is_working_day(date(2026, 10, 5))


def test_utc_start_is_counted_in_china_time():
    # 17:00 UTC on Sunday is 01:00 Monday in Beijing: Monday is then the start day
    start = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)
    assert WorkCalendar().add_working_days(start, 1) == cst(2026, 11, 24, 18)


@pytest.mark.parametrize(
    ("amount", "unit", "expected"),
    [
        (2, LimitUnit.HOURS, cst(2026, 9, 30, 11)),
        (24, LimitUnit.HOURS, cst(2026, 10, 1, 9)),
        (7, LimitUnit.DAYS, cst(2026, 10, 7, 9)),  # calendar days run through the holiday
        (2, LimitUnit.WORKING_DAYS, cst(2026, 10, 9, 18)),
    ],
)
def test_deadline_by_unit(amount, unit, expected):
    assert deadline(cst(2026, 9, 30, 9), amount, unit, NATIONAL_DAY_2026) == expected


def test_deadline_refuses_naive_times_and_empty_limits():
    with pytest.raises(ValueError):
        deadline(datetime(2026, 1, 1), 1, LimitUnit.HOURS, WorkCalendar())
    with pytest.raises(ValueError):
        deadline(cst(2026, 1, 1), 0, LimitUnit.DAYS, WorkCalendar())


def test_end_hour_is_configurable():
    assert WorkCalendar().add_working_days(cst(2026, 11, 23, 9), 1, end_hour=17) == cst(2026, 11, 24, 17)
    assert cst(2026, 11, 24, 17) - cst(2026, 11, 24, 0) == timedelta(hours=17)
