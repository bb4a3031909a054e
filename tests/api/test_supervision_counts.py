"""GET /supervision/counts: what the supervision list shows, counted per district and per unit
(overdue, supervised, escalated), under the same filters and the same scope as the list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.test_appeals_e2e import act, intake, street_lights, wait_for
from tests.api.test_many_hands_e2e import supervision_list

pytestmark = pytest.mark.usefixtures("appeal_worker")


async def counts(api, headers, **params) -> dict:
    r = await api.get("/supervision/counts", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def of(rows: list[dict], key: str, code: str | None) -> dict:
    zero = {"appeals": 0, "overdue": 0, "supervised": 0, "escalated": 0, "workflow_ended": 0}
    return next((r for r in rows if r[key] == code), zero)


def grew(after: dict, before: dict) -> dict:
    return {k: after[k] - before[k] for k in ("appeals", "overdue", "supervised", "escalated")}


async def test_counts_agree_with_the_list_under_the_same_filters_and_scope(api, tokens):
    no = (await intake(api, tokens, street_lights(content="路灯不亮 counts scope")))["appeal"]["appeal_no"]
    await act(api, tokens["dongcheng-sup"], no, "supervise", {"note": "please hurry"})
    for user, params in (
        ("supervisor", {}),
        ("supervisor", {"district": "110101"}),
        ("supervisor", {"unit": "BJ-LIGHTING"}),
        ("supervisor", {"overdue": "false", "status": "dispatched"}),
        ("dongcheng-sup", {}),
        ("dongcheng-sup", {"district": "110105"}),  # held to its own district, as the list is
    ):
        found = await counts(api, tokens[user], **params)
        listed = await supervision_list(api, tokens[user], **params)
        assert found["total"]["appeals"] == len(listed), (user, params)
        assert sum(d["appeals"] for d in found["districts"]) == len(listed)
        assert sum(u["appeals"] for u in found["units"]) == len(listed)
        assert found["total"]["overdue"] == sum(a["overdue"] for a in listed)
        for d in found["districts"]:
            assert d["appeals"] == sum(a["district"] == d["district"] for a in listed), (user, params, d)
        if user == "dongcheng-sup":
            assert {d["district"] for d in found["districts"]} == {"110101"}
    bad = await api.get("/supervision/counts", params={"district": "Dongcheng"}, headers=tokens["supervisor"])
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "query.district"


async def test_counts_grow_with_the_appeals_to_supervise(api, tokens):
    sup = tokens["supervisor"]
    before = await counts(api, sup)
    supervised, escalated, late = [
        (await intake(api, tokens, street_lights(content=f"路灯不亮 counts {i}")))["appeal"]["appeal_no"]
        for i in range(3)
    ]
    await act(api, sup, supervised, "supervise", {"note": "please hurry"})
    await act(api, sup, escalated, "supervise", {"note": "third time", "escalate": True})
    # a completion limit two seconds away: the appeal is overdue as soon as it passes
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    await act(api, sup, late, "supervise", {"note": "today", "new_due": soon})
    await wait_for(api, sup, late, lambda body: body["overdue"], timeout=30)

    after = await counts(api, sup)
    assert grew(after["total"], before["total"]) == {"appeals": 3, "overdue": 1, "supervised": 3, "escalated": 1}
    dongcheng = grew(of(after["districts"], "district", "110101"), of(before["districts"], "district", "110101"))
    assert dongcheng == {"appeals": 3, "overdue": 1, "supervised": 3, "escalated": 1}
    lighting = grew(of(after["units"], "unit", "BJ-LIGHTING"), of(before["units"], "unit", "BJ-LIGHTING"))
    assert lighting == {"appeals": 3, "overdue": 1, "supervised": 3, "escalated": 1}
    assert of(after["districts"], "district", "110101")["name_zh"] == "东城区"
    assert of(after["units"], "unit", "BJ-LIGHTING")["name_zh"] == "北京市城市照明管理中心"
    # the most overdue first
    overdue = [d["overdue"] for d in after["districts"]]
    assert overdue == sorted(overdue, reverse=True)


async def test_only_supervisors_count(api, tokens):
    for user in ("op", "lighting", "analyst"):
        r = await api.get("/supervision/counts", headers=tokens[user])
        assert r.status_code == 403, (user, r.text)
    assert (await api.get("/supervision/counts")).status_code == 401
