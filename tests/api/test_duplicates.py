"""Duplicate candidates look both ways in time: two open appeals about the same spot each find
the other, whichever was received first."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.api.test_appeals_e2e import intake

pytestmark = pytest.mark.usefixtures("appeal_worker")


async def candidates(api, tokens, no, **params) -> list[str]:
    r = await api.get(f"/appeals/{no}/duplicates", params=params, headers=tokens["op"])
    assert r.status_code == 200, r.text
    return [c["appeal_no"] for c in r.json()]


async def test_two_appeals_about_one_place_each_find_the_other(api, tokens, engine):
    # an address of its own, so appeals of other tests at this street are not candidates
    address = f"东直门外大街{uuid.uuid4().hex[:6]}号院北门"
    body = {"appeal_type": "complaint", "category": "MUNI.STREETLIGHT", "content": "北门外的路灯一直不亮",
            "location": {"street": "110101-ANDINGMEN", "address": address}}
    older = (await intake(api, tokens, body))["appeal"]["appeal_no"]
    newer = (await intake(api, tokens, body | {"content": "北门路灯坏了好几天了"}))["appeal"]["appeal_no"]
    elsewhere = (await intake(api, tokens, body | {"location": {"street": "110101-ANDINGMEN",
                                                                "address": address + "对面"}}))["appeal"]["appeal_no"]

    assert await candidates(api, tokens, newer) == [older]
    assert await candidates(api, tokens, older) == [newer]  # asked from the first, it sees the later one
    assert elsewhere not in await candidates(api, tokens, older)

    # the window is as wide after an appeal as before it
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE appeal SET received_at = received_at - interval '40 days' "
                                   "WHERE appeal_no = :n"), {"n": older})
    assert await candidates(api, tokens, older) == []
    assert await candidates(api, tokens, newer) == []
    assert await candidates(api, tokens, older, within_days=45) == [newer]
    assert await candidates(api, tokens, newer, within_days=45) == [older]
