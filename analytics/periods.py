"""Explicit periods for every figure: a month (`2026-10`), an ISO week (`2026-W43`), a year
(`2026`), or a range of dates (`from`/`to`, both inclusive). Days are Beijing days."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from domain.calendar import CHINA_TZ

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")

#: The longest range a figure may cover (keeps every query bounded).
MAX_DAYS = 366 * 3
#: Figures exist for these years (the hotline's, with room for the period before).
EARLIEST, LATEST = date(1990, 1, 1), date(2100, 1, 1)


class PeriodError(ValueError):
    """A period that cannot be read; the message says why."""


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """[start, end) in Beijing days, with the grain it was asked at."""

    start: date
    end: date  # exclusive
    grain: str = "range"  # month | week | year | range

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise PeriodError(f"the period is empty: {self.start} to {self.end - timedelta(days=1)}")
        if (self.end - self.start).days > MAX_DAYS:
            raise PeriodError(f"a period covers at most {MAX_DAYS} days")
        if self.start < EARLIEST or self.end > LATEST:
            raise PeriodError(f"periods lie between {EARLIEST} and {LATEST}")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        return cls(first, next_month(first), "month")

    @classmethod
    def parse(cls, text: str) -> Period:
        text = text.strip()
        try:
            if m := _MONTH.match(text):
                return cls.month(int(m[1]), int(m[2]))
            if m := _WEEK.match(text):
                monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
                return cls(monday, monday + timedelta(days=7), "week")
            if m := _YEAR.match(text):
                return cls(date(int(m[1]), 1, 1), date(int(m[1]) + 1, 1, 1), "year")
        except (ValueError, OverflowError) as e:  # no such day, or past the calendar's end (9999-W52)
            raise PeriodError(f"{text!r} is not a valid period: {e}") from e
        raise PeriodError(f"{text!r} is not a period: use YYYY-MM, YYYY-Www or YYYY")

    @classmethod
    def between(cls, first: date, last: date) -> Period:
        """Both days included."""
        if last < first:
            raise PeriodError(f"'to' ({last}) is before 'from' ({first})")
        if first < EARLIEST or last >= LATEST:  # before adding a day: 9999-12-31 has no next
            raise PeriodError(f"periods lie between {EARLIEST} and {LATEST}")
        return cls(first, last + timedelta(days=1), "range")

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def label(self) -> str:
        if self.grain == "month":
            return self.start.strftime("%Y-%m")
        if self.grain == "week":
            y, w, _ = self.start.isocalendar()
            return f"{y}-W{w:02d}"
        if self.grain == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.last.isoformat()}"

    def bounds(self) -> tuple[datetime, datetime]:
        """The instants [start, end) of the period, midnight to midnight in Beijing."""
        return (datetime.combine(self.start, time(), CHINA_TZ), datetime.combine(self.end, time(), CHINA_TZ))

    def previous(self) -> Period:
        """The period just before, of the same kind: last month, last week, last year, or the
        same number of days."""
        if self.grain == "month":
            prior = month_start(self.start - timedelta(days=1))
            return Period.month(prior.year, prior.month)
        if self.grain == "year":
            return Period(date(self.start.year - 1, 1, 1), self.start, "year")
        return Period(self.start - timedelta(days=self.days), self.start, self.grain)

    def months(self) -> list[Period]:
        """The whole calendar months inside the period, in order."""
        out, first = [], month_start(self.start)
        if first < self.start:
            first = next_month(first)
        while next_month(first) <= self.end:
            out.append(Period.month(first.year, first.month))
            first = next_month(first)
        return out

    def to_json(self) -> dict[str, str]:
        return {"label": self.label, "grain": self.grain, "from": self.start.isoformat(), "to": self.last.isoformat()}


def resolve(period: str | None, first: date | None, last: date | None, *, today: date | None = None) -> Period:
    """The period a request asks for: `period`, or `from` and `to`; by default the month so far."""
    if period is not None and (first is not None or last is not None):
        raise PeriodError("give either 'period' or 'from'/'to', not both")
    if period is not None:
        asked = Period.parse(period)
    elif first is not None or last is not None:
        if first is None or last is None:
            raise PeriodError("'from' and 'to' go together")
        asked = Period.between(first, last)
    else:
        today = today or datetime.now(CHINA_TZ).date()
        asked = Period.month(today.year, today.month)
    asked.previous()  # every figure is compared with the period before: it must exist too
    return asked
