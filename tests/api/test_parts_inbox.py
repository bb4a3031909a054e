"""A unit's inbox of parts (GET /parts), end to end through the HTTP API on the dev server."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.api.test_appeals_e2e import act, intake
from tests.api.test_many_hands_e2e import eventually, part

pytestmark = pytest.mark.usefixtures("appeal_worker")

STREET, ZJW, DLYH = "110105-YAYUNCUN", "110105-ZJW", "110105-DLYH"
ROAD = {"appeal_type": "help", "category": "MUNI.DEADENDROAD", "location": {"street": STREET}}


async def parts(api, headers, expect=200, **params) -> dict:
    r = await api.get("/parts", params=params, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


async def inbox(api, headers, **params) -> list[dict]:
    """Every page of GET /parts, in the order given."""
    items, offset = [], 0
    while True:
        page = await parts(api, headers, **params, limit=200, offset=offset)
        items += page["items"]
        offset += 200
        if offset >= page["total"]:
            return items


def at(value: str) -> datetime:
    assert value.endswith("+08:00"), f"{value} is not Beijing time"
    return datetime.fromisoformat(value)


async def whistled(api, tokens, units, report_in_hours, content="北辰西路断头路") -> str:
    no = (await intake(api, tokens, ROAD | {"content": content}))["appeal"]["appeal_no"]
    street = tokens["yayuncun"]
    await act(api, street, no, "accept")
    await act(api, street, no, "contact", {"note": "met the residents"})
    await act(api, street, no, "whistle", {"units": units, "task": "open the road", "limit_working_days": 10,
                                           "report_in_hours": report_in_hours})
    return no


async def name_of(api, code) -> str:
    return (await api.get(f"/units/{code}")).json()["name_zh"]


async def test_each_summoned_department_finds_its_part_with_the_report_in_limit_first(api, tokens):
    no = await whistled(api, tokens, [ZJW, DLYH], report_in_hours=24)

    mine = (await eventually(lambda: _items(api, tokens["zjw"], appeal_no=no)))
    assert len(mine) == 1
    item = mine[0]
    assert (item["appeal_no"], item["kind"], item["status"], item["round"]) == (no, "whistle", "requested", 1)
    assert item["unit"] == {"code": ZJW, "name_zh": await name_of(api, ZJW)}
    assert item["lead_unit"] == {"code": STREET, "name_zh": await name_of(api, STREET)}
    assert item["task"] == "open the road" and not item["overdue"]
    report_in, done = item["limits"]["report_in"], item["limits"]["done"]
    assert report_in["state"] == done["state"] == "running" and report_in["met_at"] is None
    assert at(report_in["due"]) - at(item["requested_at"]) == timedelta(hours=24)
    assert at(report_in["due"]) < at(done["due"])
    assert item["next_due"] == report_in["due"]  # reporting in comes first
    base = f"/appeals/{no}/whistle/{ZJW}"
    assert item["actions"] == {"report-in": f"{base}/report-in", "decline": f"{base}/decline"}

    # each department sees its own part; the others see nothing of it, and may not look
    theirs = await _items(api, tokens["dlyh"], appeal_no=no)
    assert [(p["unit"]["code"], p["status"]) for p in theirs] == [(DLYH, "requested")]
    assert await _items(api, tokens["yllh"], appeal_no=no) == []
    assert await _items(api, tokens["yayuncun"], appeal_no=no) == []  # the lead: not a part of its own
    refused = await parts(api, tokens["yllh"], expect=403, unit=ZJW)
    assert refused["error"]["code"] == "forbidden"
    assert all(p["unit"]["code"] == ZJW for p in await inbox(api, tokens["zjw"]))

    # the hotline sees both, may pick one unit; a supervisor of another district sees none
    assert {p["unit"]["code"] for p in await _items(api, tokens["op"], appeal_no=no)} == {ZJW, DLYH}
    assert [p["unit"]["code"] for p in await _items(api, tokens["op"], appeal_no=no, unit=DLYH)] == [DLYH]
    assert len(await _items(api, tokens["supervisor"], appeal_no=no)) == 2
    assert await _items(api, tokens["dongcheng-sup"], appeal_no=no) == []
    assert await _items(api, tokens["op"], appeal_no=no, kind="co_handling") == []

    # after reporting in, the part's own limit is the one that shows
    await part(api, tokens["zjw"], no, "whistle", ZJW, "report-in", {"plan": "permits for the road"})
    item = (await eventually(lambda: _items(api, tokens["zjw"], appeal_no=no, status="accepted")))[0]
    report_in, done = item["limits"]["report_in"], item["limits"]["done"]
    assert report_in["state"] == "met_in_time" and at(report_in["met_at"]) <= at(report_in["due"])
    assert done["state"] == "running" and item["next_due"] == done["due"]
    assert set(item["actions"]) == {"phased-report", "report", "decline"}

    # done is no longer open: out of the default list, there with status=done, waiting on nothing
    await part(api, tokens["dlyh"], no, "whistle", DLYH, "report-in", {"plan": "repave"})
    await part(api, tokens["dlyh"], no, "whistle", DLYH, "report", {"result": "repaved"})
    await eventually(lambda: _no_items(api, tokens["dlyh"], appeal_no=no))
    item = (await _items(api, tokens["dlyh"], appeal_no=no, status="done"))[0]
    assert item["limits"]["done"]["state"] == "met_in_time" and item["next_due"] is None and item["actions"] == {}


async def test_the_inbox_puts_the_nearest_unmet_limit_first(api, tokens):
    """Two whistles to one department: the earlier summons, reporting in within a day, comes
    first; once it reported in, its part waits on ten working days, and the later summons,
    reporting in within three days, comes before it."""
    first = await whistled(api, tokens, [ZJW], report_in_hours=24, content="断头路一")
    second = await whistled(api, tokens, [ZJW], report_in_hours=72, content="断头路二")
    await eventually(lambda: _items(api, tokens["zjw"], appeal_no=second))

    async def order():
        listed = await inbox(api, tokens["zjw"])
        due = [p["next_due"] for p in listed]
        assert due == sorted(due, key=at), "the inbox is not ordered by the nearest limit"
        return [p["appeal_no"] for p in listed if p["appeal_no"] in (first, second)]

    assert await order() == [first, second]
    await part(api, tokens["zjw"], first, "whistle", ZJW, "report-in", {"plan": "permits"})
    await eventually(lambda: _items(api, tokens["zjw"], appeal_no=first, status="accepted"))
    assert await order() == [second, first]
    # paging keeps the order
    whole = [(p["appeal_no"], p["unit"]["code"]) for p in await inbox(api, tokens["op"])]
    paged = []
    for offset in range(0, len(whole), 7):
        paged += [(p["appeal_no"], p["unit"]["code"])
                  for p in (await parts(api, tokens["op"], limit=7, offset=offset))["items"]]
    assert paged == whole


async def test_the_inbox_refuses_what_it_cannot_read(api, tokens):
    for params in ({"status": "lost"}, {"kind": "both"}, {"limit": 0}, {"limit": 201}, {"offset": -1},
                   {"overdue": "perhaps"}, {"unit": "x" * 41}, {"sort": "due"}):
        r = await api.get("/parts", params=params, headers=tokens["op"])
        assert r.status_code == 422, (params, r.text)
    assert (await api.get("/parts")).status_code == 401


async def _items(api, headers, **params) -> list[dict]:
    return (await parts(api, headers, **params))["items"]


async def _no_items(api, headers, **params) -> bool:
    return (await parts(api, headers, **params))["total"] == 0
