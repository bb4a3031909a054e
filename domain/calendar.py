"""Working-day arithmetic for time limits (时限), with China's public holidays and the adjusted
working days (调休) that move weekends around them.

The calendar itself is data maintained by administrators; the workflow loads it through an
activity so that replays see exactly what the original run saw.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from domain.types import DayKind, LimitUnit

#: China Standard Time. A fixed offset (China has no daylight saving), which also keeps the
#: workflow sandbox away from zoneinfo.
CHINA_TZ = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True)
class WorkCalendar:
    """Which dates are working days: Monday to Friday, except public holidays, plus the weekend
    days declared working days."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_entries(cls, entries: Iterable[tuple[date, DayKind | str]]) -> WorkCalendar:
        holidays: set[date] = set()
        workdays: set[date] = set()
        for day, kind in entries:
            (holidays if DayKind(kind) is DayKind.HOLIDAY else workdays).add(day)
        return cls(frozenset(holidays), frozenset(workdays))

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(
        self, start: datetime, days: int, *, end_hour: int = 18, tz: tzinfo = CHINA_TZ
    ) -> datetime:
        """The end (at `end_hour` local time) of the `days`-th working day after `start`'s date.

        The day of `start` itself never counts, whatever the hour: an order dispatched on Friday
        evening with one working day to object may be objected to until Monday's close.
        """
        if days < 1:
            raise ValueError("days must be at least 1")
        day = start.astimezone(tz).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, time(0), tz) + timedelta(hours=end_hour)


def deadline(
    start: datetime,
    amount: int,
    unit: LimitUnit | str,
    calendar: WorkCalendar,
    *,
    end_hour: int = 18,
    tz: tzinfo = CHINA_TZ,
) -> datetime:
    """When a limit of `amount` `unit`s that starts at `start` runs out."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if amount < 1:
        raise ValueError("amount must be at least 1")
    match LimitUnit(unit):
        case LimitUnit.MINUTES:
            return start + timedelta(minutes=amount)
        case LimitUnit.HOURS:
            return start + timedelta(hours=amount)
        case LimitUnit.DAYS:
            return start + timedelta(days=amount)
        case LimitUnit.WORKING_DAYS:
            return calendar.add_working_days(start, amount, end_hour=end_hour, tz=tz)
