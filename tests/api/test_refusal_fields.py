"""A workflow's refusal names the field at fault as a malformed body's 422 does: `details` is a
list of `{"field", "message", ...}`, so a client shows both at the same input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.test_appeals_e2e import act, intake, street_lights
from tests.api.test_many_hands_e2e import part

pytestmark = pytest.mark.usefixtures("appeal_worker")


def field_of(body: dict) -> str:
    [detail] = body["error"]["details"]
    assert detail["message"] == body["error"]["message"]
    return detail["field"]


async def test_late_completion_without_late_reason_names_late_reason(api, tokens):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    lighting = tokens["lighting"]
    await act(api, lighting, no, "accept")
    await act(api, lighting, no, "contact", {"note": "called back"})
    # a supervisor's new limit a moment away: past it, the completion is late
    due = datetime.now(UTC) + timedelta(seconds=2)
    await act(api, tokens["supervisor"], no, "supervise", {"note": "by now", "new_due": due.isoformat()})
    await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.5)
    refused = await act(api, lighting, no, "complete", {"result": "lamps fixed"}, status=422)
    assert refused["error"]["code"] == "invalid"
    assert field_of(refused) == "late_reason"
    assert refused["error"]["details"][0]["status"] == "contacted"
    await act(api, lighting, no, "complete", {"result": "lamps fixed", "late_reason": "parts were late"})


async def test_whistle_report_in_without_plan_names_plan(api, tokens):
    no = (await intake(api, tokens, {
        "appeal_type": "help", "category": "MUNI.DEADENDROAD", "location": {"street": "110105-YAYUNCUN"},
        "content": "路口积水", "citizen": {"name": "黄女士", "phone": "13900001111"}}))["appeal"]["appeal_no"]
    street = tokens["yayuncun"]
    await act(api, street, no, "accept")
    await act(api, street, no, "whistle", {"units": ["110105-CGW"], "task": "drain the crossing"})
    refused = await part(api, tokens["cgw"], no, "whistle", "110105-CGW", "report-in", {}, status=422)
    assert field_of(refused) == "plan"


async def test_not_accepted_without_reason_names_not_accepted_reason(api, tokens):
    refused = await intake(api, tokens, street_lights(decision="not_accepted"), status=422)
    assert field_of(refused) == "not_accepted_reason"


async def test_a_refusal_about_the_state_has_the_same_shape_without_a_field(api, tokens):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    refused = await act(api, tokens["lighting"], no, "complete", {"result": "x"}, status=409)
    [detail] = refused["error"]["details"]
    assert detail["field"] is None and detail["status"] == "dispatched" and detail["type"] == "wrong_state"
