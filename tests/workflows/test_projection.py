"""The projection activity: retried or replayed writes never duplicate an event or move the
appeal row backwards."""

from datetime import UTC, datetime

import sqlalchemy as sa

from activities.appeals import AppealActivities, ProjectionInput
from domain.messages import AppealStatus, AppealView, TimelineEvent
from tests.workflows.conftest import OPERATOR, record_intake


def _event(seq: int, kind: str) -> TimelineEvent:
    return TimelineEvent(seq=seq, kind=kind, at=datetime.now(UTC), actor=OPERATOR)


async def test_retries_never_duplicate_and_late_writes_never_regress(engine, settings):
    inp = await record_intake(engine)  # the row exists; no workflow runs for it
    view = AppealView(**inp.model_dump(include={"appeal_no", "appeal_type", "category", "urgency", "channel",
                                                "district", "street", "received_at"}))
    first = ProjectionInput(view=view.model_copy(update={"seq": 1}), events=[_event(1, "received")])
    second = ProjectionInput(
        view=view.model_copy(update={"seq": 2, "status": AppealStatus.DISPATCHED, "handling_unit": "BJ-LIGHTING"}),
        events=[_event(2, "dispatched")],
    )
    activities = AppealActivities(engine, settings)
    assert await activities.project_appeal(first) == 1
    assert await activities.project_appeal(second) == 1
    assert await activities.project_appeal(second) == 0  # a retry
    assert await activities.project_appeal(first) == 0  # a late, older write
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text("SELECT status, seq, handling_unit_code FROM appeal WHERE appeal_no = :n"), {"n": inp.appeal_no}
            )
        ).one()
        count = await conn.scalar(sa.text("SELECT count(*) FROM appeal_event WHERE appeal_no = :n"), {"n": inp.appeal_no})
    assert tuple(row) == ("dispatched", 2, "BJ-LIGHTING") and count == 2
