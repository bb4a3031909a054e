"""PostgreSQL refusing a projection (a data or integrity error: retrying cannot fix it) never
freezes an appeal: the workflow keeps its state and its timers, the timeline and the row say the
projection failed, administrators find it by `ProjectionFailed`, and the next projection that
succeeds catches the row up. Errors that may pass (a connection) are still retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from temporalio.exceptions import ApplicationError

from activities.appeals import AppealActivities, ProjectionInput
from db.session import make_engine
from domain.collaboration import LinkInput
from domain.messages import AppealAcceptInput, AppealStatus, AppealView, TimelineEvent
from tests.conftest import settings_for
from tests.workflows.conftest import OPERATOR, record_intake, search_attributes, staff, until
from workflows.appeal import AppealWorkflow

#: An appeal number no row has: `appeal.master_no` references `appeal` (an integrity error, 23503).
NO_SUCH_MASTER = "BJ-20991231-999999"


async def _timeline(engine, appeal_no: str) -> list[tuple[int, str, dict]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT seq, kind, detail FROM appeal_event WHERE appeal_no = :n ORDER BY seq"), {"n": appeal_no}
        )
        return [tuple(r) for r in rows]


async def _row(engine, appeal_no: str) -> dict:
    async with engine.connect() as conn:
        r = await conn.execute(sa.text("SELECT * FROM appeal WHERE appeal_no = :n"), {"n": appeal_no})
        return dict(r.mappings().one())


async def _until_timeline(engine, appeal_no: str, kind: str, count: int = 1, timeout: float = 15) -> list:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        events = await _timeline(engine, appeal_no)
        if sum(1 for e in events if e[1] == kind) >= count:
            return events
        assert asyncio.get_running_loop().time() < deadline, f"no {kind!r} on the timeline: {events}"
        await asyncio.sleep(0.1)


async def test_a_refused_projection_through_a_signal_never_freezes_the_appeal(run, engine, ts_env):
    handle = await run.start()
    view = await until(handle, lambda v: v.status is AppealStatus.DISPATCHED)
    no = view.appeal_no

    # a signal bypasses the API's checks: a link to an appeal that does not exist
    await handle.signal(
        AppealWorkflow.link_signal, LinkInput(actor=OPERATOR, master_no=NO_SUCH_MASTER, kind="related")
    )
    events = await _until_timeline(engine, no, "projection_failed")
    failed = next(e for e in events if e[1] == "projection_failed")
    assert failed[2]["events"] == ["linked"] and "23503" in failed[2]["error"]
    assert [e[1] for e in events if e[0] < failed[0]][-1] == "linked"  # the event itself is on the timeline
    row = await _row(engine, no)
    assert row["projection_failed_at"] is not None and "23503" in row["projection_error"]
    assert row["master_no"] is None  # the row lags behind the workflow, which took the link
    assert (await search_attributes(handle))["ProjectionFailed"] is True

    # the limits still run: the contact reminder and the missed contact limit reach the timeline
    await ts_env.sleep(timedelta(days=2))
    events = await _until_timeline(engine, no, "limit_missed")
    assert {"reminder", "escalated"} <= {e[1] for e in events}
    state = await handle.query(AppealWorkflow.state)
    assert state.overdue and state.master_no == NO_SUCH_MASTER and state.projection_failed

    # an administrator puts the missing appeal in place: the next projection goes through and the
    # row catches up with everything the workflow did meanwhile
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO appeal (appeal_no, workflow_id, status, channel, appeal_type, category_code, urgency,"
                " content, received_at, overdue, supervised, rehandle_count, seq) VALUES (:n, :w, 'closed', 'phone',"
                " 'complaint', 'MUNI.STREETLIGHT', 'ordinary', 'restored', now(), false, false, 0, 0)"
            ),
            {"n": NO_SUCH_MASTER, "w": f"appeal-{NO_SUCH_MASTER}"},
        )
    await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff("BJ-LIGHTING")))
    row = await _row(engine, no)
    final = await handle.query(AppealWorkflow.state)
    assert row["projection_failed_at"] is None and row["projection_error"] is None
    assert row["master_no"] == NO_SUCH_MASTER and row["seq"] == final.seq and row["overdue"] is True
    assert row["status"] == "accepted"
    assert not final.projection_failed
    assert (await search_attributes(handle)).get("ProjectionFailed") is None
    seqs = [e[0] for e in await _timeline(engine, no)]
    assert seqs == list(range(1, final.seq + 1))  # no gap, no repeat


def _view(appeal_no: str, **changes) -> AppealView:
    return AppealView(
        appeal_no=appeal_no, appeal_type="complaint", category="MUNI.STREETLIGHT", urgency="ordinary",
        channel="phone", district="110101", street="110101-ANDINGMEN", received_at=datetime.now(UTC),
        **changes,
    )


async def test_a_permanent_database_error_is_not_retried(engine, settings):
    inp = await record_intake(engine)
    event = TimelineEvent(seq=1, kind="linked", at=datetime.now(UTC), actor=OPERATOR)
    bad = ProjectionInput(view=_view(inp.appeal_no, seq=1, master_no="BJ-20991231-999998"), events=[event])
    with pytest.raises(ApplicationError) as e:
        await AppealActivities(engine, settings).project_appeal(bad)
    assert e.value.type == "ProjectionRefused" and e.value.non_retryable
    assert e.value.details[0]["sqlstate"] == "23503"


async def test_a_database_that_does_not_answer_is_retried(settings, pg_server):
    from devstack.ports import free_port

    dead = make_engine(settings_for(f"postgresql://nobody@127.0.0.1:{free_port()}/none"))
    try:
        bad = ProjectionInput(view=_view("BJ-20261202-000001", seq=1), events=[])
        with pytest.raises(Exception) as e:
            await AppealActivities(dead, settings).project_appeal(bad)
        assert not isinstance(e.value, ApplicationError)  # the activity's retry policy retries it
    finally:
        await dead.dispose()
