"""The operators' queues through GET /appeals: oldest first (`sort=oldest`), and the extension
requests waiting for review (`extension=requested`), end to end on the dev server."""

from __future__ import annotations

import uuid

import pytest

from tests.api.test_appeals_e2e import act, intake, wait_for

pytestmark = pytest.mark.usefixtures("appeal_worker")


async def test_extension_requests_waiting_for_review_oldest_first(api, tokens):
    mark = f"queue-{uuid.uuid4().hex[:8]}"
    lights = {"appeal_type": "complaint", "category": "MUNI.STREETLIGHT", "location": {"street": "110101-ANDINGMEN"}}
    first, second, third = [
        (await intake(api, tokens, lights | {"content": f"{mark} 路灯{i}"}))["appeal"]["appeal_no"] for i in range(3)
    ]
    for no in (first, second, third):
        await act(api, tokens["lighting"], no, "accept")
    for no in (first, second):
        await act(api, tokens["lighting"], no, "extension", {"reason": "需要更换整条线缆"})

    async def listed(**params):
        r = await api.get("/appeals", params={"q": mark} | params, headers=tokens["op"])
        assert r.status_code == 200, r.text
        return [a["appeal_no"] for a in r.json()["items"]]

    assert await listed(sort="oldest") == [first, second, third]
    assert await listed(sort="oldest", extension="requested") == [first, second]
    assert await listed(extension="requested") == [second, first]  # newest first unless asked

    await act(api, tokens["op"], first, "extension-review", {"approve": True, "comment": "同意"})
    assert await listed(extension="requested") == [second]
    assert await listed(extension="approved") == [first]

    # a request the unit overtook by reporting the result is no longer one to review
    await act(api, tokens["lighting"], second, "contact", {"note": "已电话联系"})
    await act(api, tokens["lighting"], second, "complete", {"result": "已更换灯泡"})
    await wait_for(api, tokens["op"], second, lambda a: a["status"] == "awaiting_evaluation")
    assert await listed(extension="requested") == []
    assert await listed(extension="rejected") == []

    r = await api.get("/appeals", params={"extension": "pending"}, headers=tokens["op"])
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "query.extension"


async def test_the_queues_count_what_their_filters_list(api, tokens):
    """Each queue's count is the total its `GET /appeals` parameters list."""
    r = await api.get("/queues", headers=tokens["op"])
    assert r.status_code == 200, r.text
    queues = {q["name"]: q for q in r.json()}
    assert set(queues) == {"held", "objections", "extensions", "return_visits", "answered"}
    assert queues["extensions"]["filter"] == {"extension": "requested"}
    held_before = queues["held"]["count"]
    await intake(
        api,
        tokens,
        {
            "appeal_type": "complaint",
            "category": "MUNI.STREETLIGHT",
            "decision": "hold",
            "location": {"street": "110101-ANDINGMEN"},
            "content": "暂存，稍后派单",
        },
    )
    queues = {q["name"]: q for q in (await api.get("/queues", headers=tokens["op"])).json()}
    assert queues["held"]["count"] == held_before + 1
    for q in queues.values():
        listed = await api.get("/appeals", params=q["filter"] | {"limit": 1}, headers=tokens["op"])
        assert listed.json()["total"] == q["count"], q
    assert (await api.get("/queues", headers=tokens["lighting"])).status_code == 403
