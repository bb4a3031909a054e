"""Appeals by the nearest limit their unit still works to (GET /appeals?sort=due), end to end
through the HTTP API on the dev server."""

from __future__ import annotations

import uuid

import pytest

from tests.api.test_appeals_e2e import act, intake, wait_for

pytestmark = pytest.mark.usefixtures("appeal_worker")


async def test_appeals_sorted_by_their_nearest_unmet_limit(api, tokens):
    """Newest first by default; with sort=due, the nearest limit the unit still works to first:
    an emergency's contact limit (2 hours) before an ordinary one's (24 hours), which comes
    before an appeal already contacted (its completion limit, in days); an appeal answered on the
    spot, waiting on no unit, last."""
    mark = f"sortdue-{uuid.uuid4().hex[:8]}"
    lights = {"appeal_type": "complaint", "category": "MUNI.STREETLIGHT", "location": {"street": "110101-ANDINGMEN"}}
    ordinary = (await intake(api, tokens, lights | {"content": f"{mark} 路灯一"}))["appeal"]["appeal_no"]
    urgent = (await intake(api, tokens, lights | {"content": f"{mark} 路灯二", "urgency": "emergency"}))["appeal"]["appeal_no"]
    contacted = (await intake(api, tokens, lights | {"content": f"{mark} 路灯三"}))["appeal"]["appeal_no"]
    answered = (await intake(api, tokens, lights | {"content": f"{mark} 路灯四", "decision": "answer",
                                                    "answer": "已告知维修电话"}))["appeal"]["appeal_no"]
    await act(api, tokens["lighting"], contacted, "accept")
    await act(api, tokens["lighting"], contacted, "contact", {"note": "called"})
    for no in (ordinary, urgent):
        await wait_for(api, tokens["op"], no, lambda a: a["status"] == "dispatched")
    await wait_for(api, tokens["op"], answered, lambda a: a["status"] == "answered")

    async def listed(**params):
        r = await api.get("/appeals", params={"q": mark} | params, headers=tokens["op"])
        assert r.status_code == 200, r.text
        return [a["appeal_no"] for a in r.json()["items"]]

    assert await listed() == [answered, contacted, urgent, ordinary]
    assert await listed(sort="newest") == await listed()
    assert await listed(sort="due") == [urgent, ordinary, contacted, answered]
    assert (await api.get("/appeals", params={"sort": "sideways"}, headers=tokens["op"])).status_code == 422
