"""Outages and retries at the edges: an intake whose workflow has not run yet is its unit's from
the start, a client's retried action is done once, and a failed start leaves no unread error."""

from __future__ import annotations

import asyncio
import gc
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import Client

from api.main import create_app
from db import appeals as store
from db.session import session_factory
from domain.messages import Actor, AppealInput
from domain.types import AppealType, Channel, Role, Urgency
from infra.appeals import start_appeal_with_view
from tests.api.conftest import serve
from tests.api.test_appeals_e2e import act, intake, street_lights

pytestmark = pytest.mark.usefixtures("appeal_worker")


async def test_an_intake_not_yet_taken_up_by_a_worker_is_its_units_from_the_start(
    api, tokens, settings, engine, dev_env, monkeypatch
):
    """No worker polls the task queue: the intake answers `received` after its wait, and the
    unit it was routed to sees it and may act (a 503 while nothing runs it, never a 404)."""
    import api.intake as intake_module
    import api.routes.appeals as appeal_routes

    monkeypatch.setattr(intake_module, "INTAKE_WAIT", timedelta(seconds=2), raising=False)
    monkeypatch.setattr(appeal_routes, "UPDATE_RPC_TIMEOUT", timedelta(seconds=2))
    idle = settings.model_copy(update={"temporal_task_queue": f"nobody-polls-{uuid.uuid4().hex[:8]}"})
    async with serve(create_app(idle, engine=engine, temporal=dev_env.client)) as stalled:
        r = await stalled.post("/appeals", json=street_lights(), headers=tokens["op"])
        assert r.status_code == 201, r.text
        appeal = r.json()["appeal"]
        no = appeal["appeal_no"]
        try:
            seen = await stalled.get(f"/appeals/{no}", headers=tokens["lighting"])
            assert seen.status_code == 200, seen.text
            assert seen.json()["handling_unit"] == "BJ-LIGHTING"
            listed = await stalled.get("/appeals", params={"q": no}, headers=tokens["lighting"])
            assert [a["appeal_no"] for a in listed.json()["items"]] == [no]
            accept = await stalled.post(f"/appeals/{no}/accept", json={}, headers=tokens["lighting"])
            assert accept.status_code in (503, 409), accept.text

            # the slow start's answer shows the unit too
            assert appeal["status"] == "received"
            assert appeal["handling_unit"] == "BJ-LIGHTING" and appeal["units"] == ["BJ-LIGHTING"]
            # another unit still gets the 404 of an appeal that is not its own
            assert (await stalled.get(f"/appeals/{no}", headers=tokens["water"])).status_code == 404
        finally:
            await dev_env.client.get_workflow_handle(f"appeal-{no}").terminate("test: no worker runs it")


async def test_the_workflows_first_projection_keeps_the_unit_routed_at_intake(api, tokens, engine):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    async with session_factory(engine)() as session:
        row = await store.get(session=session, appeal_no=no)
    assert row.seq > 0 and row.handling_unit_code == "BJ-LIGHTING" and row.state["units"] == ["BJ-LIGHTING"]


async def _timeline_kinds(api, headers, no) -> list[str]:
    return [e["kind"] for e in (await api.get(f"/appeals/{no}/timeline", headers=headers)).json()]


async def test_an_action_retried_with_its_idempotency_key_is_done_once(api, tokens):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    unit = tokens["lighting"]
    await act(api, unit, no, "accept")
    report = {"progress": "cables ordered"}
    key = f"report-{uuid.uuid4().hex}"

    first = await api.post(f"/appeals/{no}/phased-report", json=report, headers=unit | {"Idempotency-Key": key})
    again = await api.post(f"/appeals/{no}/phased-report", json=report, headers=unit | {"Idempotency-Key": key})
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json() == again.json()
    assert (await _timeline_kinds(api, unit, no)).count("phased_report") == 1

    other = await api.post(
        f"/appeals/{no}/phased-report", json=report, headers=unit | {"Idempotency-Key": f"report-{uuid.uuid4().hex}"}
    )
    assert other.status_code == 200, other.text
    assert (await _timeline_kinds(api, unit, no)).count("phased_report") == 2

    # the same key on another action is another request, not a retry of the report
    extension = await api.post(
        f"/appeals/{no}/extension", json={"reason": "parts on order"}, headers=unit | {"Idempotency-Key": key}
    )
    assert extension.status_code == 200, extension.text
    kinds = await _timeline_kinds(api, unit, no)
    assert kinds.count("extension_requested") == 1 and kinds.count("phased_report") == 2


@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 129])
async def test_a_malformed_idempotency_key_on_an_action_is_a_422(api, tokens, key):
    r = await api.post("/appeals/BJ-NOPE/accept", json={}, headers=tokens["lighting"] | {"Idempotency-Key": key})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


async def test_a_failed_start_leaves_no_unread_error_behind(dev_env):
    """A start that fails hands its error to the caller and to the start operation's own
    future; unread there, asyncio reported "Future exception was never retrieved" (seen in the
    API's log during a Temporal outage). Here the start fails at once: the namespace is not
    there."""
    target = dev_env.client.service_client.config.target_host
    nowhere = await Client.connect(target, namespace=f"missing-{uuid.uuid4().hex[:8]}",
                                   data_converter=dev_env.client.data_converter)
    inp = AppealInput(
        appeal_no=f"BJ-T-{uuid.uuid4().hex[:6]}", channel=Channel.PHONE, appeal_type=AppealType.COMPLAINT, category="MUNI.STREETLIGHT",
        urgency=Urgency.ORDINARY, district=None, street=None, received_at=datetime.now(UTC),
        operator=Actor(user="op", role=Role.OPERATOR),
    )
    loop = asyncio.get_running_loop()
    reported: list[dict] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        with pytest.raises(Exception):
            await start_appeal_with_view(nowhere, "appeals", inp, rpc_timeout=timedelta(seconds=5))
        gc.collect()  # an unread future reports itself when it is collected
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert reported == []
