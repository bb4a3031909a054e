"""An administrator terminates an appeal's workflow in the Temporal UI (the workflow cannot see it):
the worker's reconciler flags the appeal, says so on its timeline, `GET /supervision` lists it,
and a restart carries it on (or closes it) without losing or repeating a timeline event."""

from __future__ import annotations

import asyncio
import time

import pytest

from infra.orphans import CannotRestart, record_ended_workflows, restart_appeal
from tests.api.test_appeals_e2e import act, intake, street_lights, wait_for

pytestmark = pytest.mark.usefixtures("appeal_worker")


async def terminated_and_flagged(api, tokens, engine, dev_env) -> str:
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    await wait_for(api, tokens["op"], no, lambda a: a["status"] == "dispatched")
    await dev_env.client.get_workflow_handle(f"appeal-{no}").terminate(reason="stuck, stopped it")
    deadline = time.monotonic() + 20
    while no not in await record_ended_workflows(engine, dev_env.client):  # visibility lags a little
        assert time.monotonic() < deadline, "the reconciler never flagged the terminated appeal"
        await asyncio.sleep(0.3)
    return no


async def timeline(api, tokens, no) -> list[dict]:
    return (await api.get(f"/appeals/{no}/timeline", headers=tokens["op"])).json()


async def test_a_terminated_appeal_is_flagged_listed_and_restarted(api, tokens, engine, dev_env, settings):
    no = await terminated_and_flagged(api, tokens, engine, dev_env)
    assert await record_ended_workflows(engine, dev_env.client) == []  # once is enough

    appeal = (await api.get(f"/appeals/{no}", headers=tokens["op"])).json()
    assert (appeal["status"], appeal["workflow_ended"]) == ("dispatched", "terminated")
    ended = (await timeline(api, tokens, no))[-1]
    assert ended["kind"] == "workflow_ended"
    assert ended["detail"]["how"] == "terminated" and ended["detail"]["reason"] == "stuck, stopped it"
    listed = (await api.get("/supervision", params={"limit": 200}, headers=tokens["dongcheng-sup"])).json()
    assert no in [a["appeal_no"] for a in listed["items"] if a["workflow_ended"] == "terminated"]

    with pytest.raises(CannotRestart):  # a second run never starts while one runs: restart once
        await restart_appeal(engine, dev_env.client, settings.temporal_task_queue, no, by="admin")
        await restart_appeal(engine, dev_env.client, settings.temporal_task_queue, no, by="admin")
    accepted = await act(api, tokens["lighting"], no, "accept")  # the unit's next action works again
    assert accepted["status"] == "accepted"
    appeal = await wait_for(api, tokens["op"], no, lambda a: a["status"] == "accepted")
    assert appeal["workflow_ended"] is None
    events = await timeline(api, tokens, no)
    assert [e["kind"] for e in events][-3:] == ["workflow_ended", "workflow_restarted", "accepted"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    listed = (await api.get("/supervision", params={"limit": 200}, headers=tokens["dongcheng-sup"])).json()
    assert no not in [a["appeal_no"] for a in listed["items"]]


async def test_a_terminated_appeal_is_closed_with_a_reason(api, tokens, engine, dev_env, settings):
    no = await terminated_and_flagged(api, tokens, engine, dev_env)
    handle = await restart_appeal(
        engine, dev_env.client, settings.temporal_task_queue, no, by="admin", close_reason="entered twice"
    )
    await handle.result()
    appeal = await wait_for(api, tokens["op"], no, lambda a: a["status"] == "closed")
    assert (appeal["outcome"], appeal["workflow_ended"]) == ("cancelled_by_administrator", None)
    kinds = [e["kind"] for e in await timeline(api, tokens, no)]
    assert kinds[-4:] == ["workflow_ended", "workflow_restarted", "cancelled", "closed"]
    with pytest.raises(CannotRestart):
        await restart_appeal(engine, dev_env.client, settings.temporal_task_queue, no, by="admin")
