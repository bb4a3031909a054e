"""What the console builds on: who the token stands for (GET /auth/me), the districts with their
streets (GET /districts), and the actions a caller can take now (GET /appeals/{no}/actions),
checked by the workflow's own rules, for staff, for the parts' units and for the citizen."""

from __future__ import annotations

import pytest

from tests.api.test_appeals_e2e import act, intake, street_lights
from tests.api.test_many_hands_e2e import eventually

pytestmark = pytest.mark.usefixtures("appeal_worker")


async def offered(api, headers, no) -> dict[str, dict]:
    r = await api.get(f"/appeals/{no}/actions", headers=headers)
    assert r.status_code == 200, r.text
    return {(a["part"] or "") + "/" + a["route"]: a for a in r.json()}


async def test_me_names_the_account_and_what_it_is_bound_to(api, tokens):
    me = (await api.get("/auth/me", headers=tokens["lighting"])).json()
    assert me == {"username": "lighting", "display_name": "Lighting centre", "role": "unit_staff",
                  "unit": "BJ-LIGHTING", "district": None}
    assert (await api.get("/auth/me")).status_code == 401


async def test_the_districts_with_their_streets(api):
    districts = (await api.get("/districts")).json()
    assert len(districts) == 16 and districts[0]["code"] == "110101" and districts[0]["name_zh"] == "东城区"
    streets = {s["code"]: s for s in districts[0]["streets"]}
    assert streets["110101-ANDINGMEN"]["name_zh"].startswith("安定门")


async def test_the_actions_follow_the_order_and_the_caller(api, tokens):
    created = await intake(api, tokens, street_lights())
    no, citizen = created["appeal"]["appeal_no"], {"X-Citizen-Token": created["citizen_token"]}
    lighting = await offered(api, tokens["lighting"], no)
    assert {"/accept", "/objection"} <= set(lighting) and "/complete" not in set(lighting)
    accept = lighting["/accept"]
    assert accept["path"] == f"/appeals/{no}/accept" and accept["body"]["type"] == "object"
    assert lighting["/objection"]["body"]["required"] == ["reason", "suggested_unit"]
    # the hotline may transfer the order out or link it as a duplicate; the unit's steps are the unit's
    assert set(await offered(api, tokens["op"], no)) == {"/transfer", "/link"}
    assert await offered(api, citizen, no) == {}  # nor for the citizen before the result
    # another unit cannot even learn that the appeal exists
    assert (await api.get(f"/appeals/{no}/actions", headers=tokens["water"])).status_code == 404

    await act(api, tokens["lighting"], no, "accept")
    lighting = await offered(api, tokens["lighting"], no)
    assert "/accept" not in lighting and {"/contact", "/co-handling", "/whistle"} <= set(lighting)
    assert "/parts/close" not in lighting and "/parts/rate" not in lighting  # no part to close or rate


async def test_a_parts_unit_is_offered_its_parts_actions(api, tokens):
    created = await intake(api, tokens, {
        "appeal_type": "help", "category": "MUNI.DEADENDROAD", "location": {"street": "110105-YAYUNCUN"},
        "content": "断头路", "citizen": {"name": "黄女士", "phone": "13900001111"}})
    no = created["appeal"]["appeal_no"]
    street = tokens["yayuncun"]
    await act(api, street, no, "accept")
    await act(api, street, no, "whistle", {"units": ["110105-CGW"], "task": "open the road"})

    async def cgw_offered():
        found = await offered(api, tokens["cgw"], no)
        return found if "whistle:110105-CGW/report-in" in found else None

    found = await eventually(cgw_offered)
    report_in = found["whistle:110105-CGW/report-in"]
    assert report_in["path"] == f"/appeals/{no}/whistle/110105-CGW/report-in"
    assert "/accept" not in found  # the appeal itself is the street's
    assert "/parts/close" in await offered(api, street, no)
