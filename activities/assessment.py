"""Activities of the scheduled monthly assessment: freezing a closed month's three rates."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from settings import Settings


class AssessmentActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings

    @activity.defn(name="freeze_month")
    async def freeze_month(self, month: str) -> int:
        """Freeze the month `YYYY-MM`: capture every appeal it counts and the settings used, so its
        figures never move again. Returns the number of appeals captured."""
        raise NotImplementedError("being written")
