"""Activities of the scheduled monthly assessment: freezing a closed month's three rates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from analytics.periods import Period, PeriodError
from analytics.rates import FreezeError, Weights, freeze
from domain.calendar import CHINA_TZ
from settings import Settings


class AssessmentActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings

    @activity.defn(name="freeze_month")
    async def freeze_month(self, month: str) -> int:
        """Freeze the month `YYYY-MM`: capture every appeal it counts and the settings used, so its
        figures never move again. Idempotent: a month already frozen is left as it was. Returns
        the number of appeals captured."""
        try:
            period = Period.parse(month)
            async with self.engine.begin() as conn:
                captured, _ = await freeze(
                    conn, period, by="schedule", weights=Weights.from_settings(self.settings),
                    now=datetime.now(CHINA_TZ),
                )
        except (PeriodError, FreezeError) as e:
            raise ApplicationError(str(e), type="CannotFreeze", non_retryable=True) from e
        return captured
