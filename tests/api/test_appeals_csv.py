"""A list as a file (GET /appeals?format=csv): the rows of the JSON list in its order, names
beside codes, Beijing times with their offset, up to 5,000 in one answer; the caller's scope
holds as for JSON. End to end through the HTTP API on the dev server."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta

import pytest

from api.routes.appeals import LIST_CSV_COLUMNS
from domain.display import nearest_limit
from tests.api.test_appeals_e2e import act, intake, wait_for

pytestmark = pytest.mark.usefixtures("appeal_worker")

BEIJING = timedelta(hours=8)


def rows_of(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")  # Excel reads the Chinese names as UTF-8
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


async def test_a_lists_csv_is_its_json_rows_with_names_and_beijing_times(api, tokens):
    mark = f"csvlist-{uuid.uuid4().hex[:8]}"
    lights = {"appeal_type": "complaint", "category": "MUNI.STREETLIGHT", "location": {"street": "110101-ANDINGMEN"}}
    nos = [(await intake(api, tokens, lights | {"content": f"{mark} 路灯{i}"}))["appeal"]["appeal_no"] for i in range(3)]
    await act(api, tokens["lighting"], nos[1], "accept")
    await act(api, tokens["lighting"], nos[1], "contact", {"note": "called"})
    for no in (nos[0], nos[2]):
        await wait_for(api, tokens["op"], no, lambda a: a["status"] == "dispatched")

    for sort in ("newest", "due"):
        params = {"q": mark, "sort": sort}
        listed = (await api.get("/appeals", params=params, headers=tokens["lighting"])).json()["items"]
        r = await api.get("/appeals", params=params | {"format": "csv"}, headers=tokens["lighting"])
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        assert 'filename="appeals.csv"' in r.headers["content-disposition"]
        assert r.text.removeprefix("\ufeff").splitlines()[0].split(",") == LIST_CSV_COLUMNS
        rows = rows_of(r.text)
        assert [row["appeal_no"] for row in rows] == [a["appeal_no"] for a in listed]  # the JSON list's order
        assert len(rows) == 3
        for row, a in zip(rows, listed, strict=True):
            assert row["status"] == a["status"] and row["handling_unit"] == a["handling_unit"] == "BJ-LIGHTING"
            assert row["category"] == "MUNI.STREETLIGHT" and row["category_name"] == "路灯不亮/路灯故障"
            assert row["district"] == "110101" and row["district_name"] == "东城区"
            assert row["handling_unit_name"] and row["handling_unit_name"] != row["handling_unit"]
            received = datetime.fromisoformat(row["received_at"])
            assert received.utcoffset() == BEIJING and received == datetime.fromisoformat(a["received_at"])
            name, limit = nearest_limit(a["status"], a["limits"])  # the rule the console's list shows
            assert row["next_limit"] == name
            due = datetime.fromisoformat(row["next_due"])
            assert due.utcoffset() == BEIJING and due == datetime.fromisoformat(limit["due"])
            assert row["overdue"] == "false"
        by_no = {row["appeal_no"]: row for row in rows}
        assert by_no[nos[1]]["status_name"] == "已联系诉求人" and by_no[nos[1]]["next_limit_name"] == "办结时限"
        # dispatched: the contact limit or the objection window, whichever is due first (by the hour of the run)
        assert by_no[nos[0]]["status_name"] == "已派单"
        assert (by_no[nos[0]]["next_limit"], by_no[nos[0]]["next_limit_name"]) in {("contact", "联系时限"), ("objection", "异议时限")}


async def test_a_lists_csv_keeps_the_callers_scope_and_its_limits(api, tokens):
    mark = f"csvscope-{uuid.uuid4().hex[:8]}"
    body = {"appeal_type": "complaint", "category": "MUNI.STREETLIGHT", "location": {"street": "110101-ANDINGMEN"},
            "content": f"{mark} 路灯"}
    no = (await intake(api, tokens, body))["appeal"]["appeal_no"]
    seen = await api.get("/appeals", params={"q": no, "format": "csv"}, headers=tokens["op"])
    assert [row["appeal_no"] for row in rows_of(seen.text)] == [no]
    # another unit's file has the header and none of it
    other = await api.get("/appeals", params={"q": no, "format": "csv"}, headers=tokens["water"])
    assert other.status_code == 200 and rows_of(other.text) == []
    assert other.text.removeprefix("\ufeff").splitlines() == [",".join(LIST_CSV_COLUMNS)]
    # up to 5,000 rows in a file, 200 in a JSON page: past either, a 422 that says so
    assert (await api.get("/appeals", params={"q": mark, "format": "csv", "limit": 5000}, headers=tokens["op"])).status_code == 200
    for params in ({"limit": 201}, {"limit": 5001, "format": "csv"}):
        r = await api.get("/appeals", params=params, headers=tokens["op"])
        assert r.status_code == 422, r.text
        assert "limit" in r.text
    r = await api.get("/appeals", params={"limit": 201}, headers=tokens["op"])
    assert "5,000 with format=csv" in r.json()["error"]["message"]
