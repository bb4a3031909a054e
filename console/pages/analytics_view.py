"""What the analyst's pages show, made from the API's answers: months, percentages, rank moves,
drill-down and CSV addresses, and the ECharts options of the charts. Pure functions, no I/O."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from console import i18n
from console.client import ApiProblem
from domain.calendar import CHINA_TZ

BASE = "/console/analytics"

#: The count each figure of a rates row drills into (`GET /assessment/appeals?measure=`): a rate
#: drills into its numerator.
RATE_MEASURE = {"response": "responded", "resolution": "resolved", "satisfaction": "satisfied", "composite": "base"}
RATES = ("response", "resolution", "satisfaction")

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str | None, today: date) -> Month:
        """`YYYY-MM`, or this month when none is given; ValueError with the reason otherwise."""
        if not text:
            return cls(today.year, today.month)
        m = _MONTH.match(text.strip())
        if not m or not 1 <= int(m[2]) <= 12 or not 1990 < int(m[1]) < 2100:
            raise ValueError(text)
        return cls(int(m[1]), int(m[2]))

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return self.shift(1).first - timedelta(days=1)

    def shift(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def back(self, n: int) -> list[Month]:
        """The n months ending with this one, oldest first."""
        return [self.shift(-i) for i in range(n - 1, -1, -1)]


def today() -> date:
    return datetime.now(CHINA_TZ).date()


def month_of(text: str | None, lang: str) -> Month:
    """The page's month (this one by default); for one that is not YYYY-MM, a 422 page with
    the reason (the frame shows an `ApiProblem` as such)."""
    try:
        return Month.parse(text, today())
    except ValueError:
        message = i18n.text("an.bad_month", lang).format(value=text)
        raise ApiProblem(422, "invalid_period", message, {"period": message}) from None


def tabs_context(month: Month, tab: str) -> dict[str, Any]:
    return {"tab": tab, "month": month, "pct": pct, "points": points, "href": href}


def pct(value: float | None, digits: int = 1) -> str:
    """A rate as people read it: 92.3%; no base: —."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def points(change: float | None) -> dict[str, str]:
    """A change of a rate in percentage points, with its direction (up, down, same, none)."""
    if change is None:
        return {"text": "", "cls": "none"}
    value = round(change * 100, 1)
    if value == 0:
        return {"text": "±0.0", "cls": "same"}
    return {"text": f"{value:+.1f}", "cls": "up" if value > 0 else "down"}


def rank_move(rank: int | None, previous: int | None) -> dict[str, Any]:
    """How a unit moved in the ranking since last period: up (a smaller rank), down, same, new
    (not ranked last period) or none (not ranked now)."""
    if rank is None:
        return {"cls": "none", "arrow": "", "by": 0}
    if previous is None:
        return {"cls": "new", "arrow": "", "by": 0}
    by = previous - rank
    if by > 0:
        return {"cls": "up", "arrow": "▲", "by": by}
    if by < 0:
        return {"cls": "down", "arrow": "▼", "by": -by}
    return {"cls": "same", "arrow": "–", "by": 0}


def href(path: str, **params: Any) -> str:
    """A console address with its query (empty values left out)."""
    kept = {k: ("true" if v is True else v) for k, v in params.items() if v not in (None, "", False)}
    return f"{path}?{urlencode(kept)}" if kept else path


def appeals_href(
    measure: str,
    *,
    period: str | None = None,
    first: date | None = None,
    last: date | None = None,
    **filters: str | None,
) -> str:
    """The drill-down page of one assessment figure (its appeals, `GET /assessment/appeals`)."""
    when: dict[str, Any] = {"period": period} if period else {"from": first, "to": last}
    return href(f"{BASE}/appeals", **when, measure=measure, **filters)


def drill_href(api_link: str) -> str:
    """The console's page for an API drill-down link (`/analytics/drilldown?…`)."""
    path, _, query = api_link.partition("?")
    if path != "/analytics/drilldown":
        raise ValueError(f"not a drill-down link: {api_link}")
    return f"{BASE}/drill?{query}" if query else f"{BASE}/drill"


def export_href(what: str, **params: Any) -> str:
    """The console's CSV download of an API list (the browser has no bearer token to fetch it)."""
    return href(f"{BASE}/export/{what}.csv", **params)


def counts_by_district(cells: list[dict[str, Any]]) -> dict[str, int]:
    """Hot-spot cells (category × district) added up per district; cells with no place left out."""
    out: dict[str, int] = defaultdict(int)
    for cell in cells:
        if cell["place"]["code"]:
            out[cell["place"]["code"]] += cell["count"]
    return dict(out)


# --- charts (ECharts options, drawn by console.js from data-chart) ------------------------------


def trend_option(
    months: list[str],
    rows: dict[str, dict[str, Any]],
    series_names: dict[str, str],
    hrefs: dict[str, list[str | None]] | None = None,
) -> dict[str, Any]:
    """A line per rate (and the composite) over the months, in percent; a month with no base has
    no point. `rows` are `/assessment/rates?group=month` rows by month; `hrefs[rate][i]` is the
    drill-down of that point."""
    series = []
    for rate, name in series_names.items():
        data: list[Any] = []
        for i, month in enumerate(months):
            value = rows.get(month, {}).get("rates", {}).get(rate)
            if value is None:
                data.append("-")
                continue
            item: dict[str, Any] = {"value": round(value * 100, 1)}
            link = (hrefs or {}).get(rate, [None] * len(months))[i]
            if link:
                item["href"] = link
            data.append(item)
        series.append(
            {
                "name": name,
                "type": "line",
                "data": data,
                "symbolSize": 7,
                "connectNulls": False,
                "lineStyle": {"width": 3 if rate == "composite" else 2},
            }
        )
    return {
        "color": ["#0969da", "#1a7f37", "#bf8700", "#b4232a"],
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 48, "right": 24, "top": 36, "bottom": 28},
        "xAxis": {"type": "category", "data": months, "boundaryGap": False},
        "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": series,
    }


def bars_option(
    labels: list[str], now: list[int], before: list[int], names: tuple[str, str], hrefs: list[str] | None = None
) -> dict[str, Any]:
    """Horizontal bars: this period's count beside the period before's, the largest on top; a
    click on this period's bar opens its appeals."""
    labels, now, before = labels[::-1], now[::-1], before[::-1]
    links = (hrefs or [""] * len(labels))[::-1]
    return {
        "color": ["#b4232a", "#afb8c1"],
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 24, "top": 32, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": labels},
        "series": [
            {
                "name": names[0],
                "type": "bar",
                "barMaxWidth": 22,
                "data": [{"value": v, "href": h} if h else v for v, h in zip(now, links)],
            },
            {"name": names[1], "type": "bar", "barMaxWidth": 22, "data": before},
        ],
    }
