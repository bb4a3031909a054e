"""Query parameters shared by the assessment and analytics routes: the period and the format."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, Query

from analytics.periods import Period, PeriodError, resolve
from api.errors import ApiError


def _period(
    period: Annotated[
        str | None,
        Query(description="YYYY-MM, YYYY-Www or YYYY; default: this month", max_length=10),
    ] = None,
    first: Annotated[date | None, Query(alias="from", description="first day (with 'to')")] = None,
    last: Annotated[date | None, Query(alias="to", description="last day, included")] = None,
) -> Period:
    try:
        return resolve(period, first, last)
    except PeriodError as e:
        raise ApiError(422, "invalid_period", str(e), {"field": "period"}) from e


PeriodDep = Annotated[Period, Depends(_period)]
FormatDep = Annotated[Literal["json", "csv"], Query(alias="format", description="json, or csv to download")]
