"""Who sees how to reach the citizen: in full only where needed (and audited), never a
reporter's identity to a unit."""

import pytest
import sqlalchemy as sa

from tests.api.test_appeals_e2e import LIU, act, intake, street_lights

pytestmark = pytest.mark.usefixtures("appeal_worker")


async def contact(api, headers, no, status=200):
    r = await api.get(f"/appeals/{no}/contact", headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def audited(engine, no) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT username, role FROM personal_data_access WHERE appeal_no = :n ORDER BY id"),
                                  {"n": no})
        return [tuple(r) for r in rows]


async def test_the_holding_unit_sees_the_contact_while_the_order_is_open(api, tokens, engine):
    created = await intake(api, tokens, street_lights())
    no = created["appeal"]["appeal_no"]
    full = await contact(api, tokens["lighting"], no)
    assert (full["phone"], full["name"], full["masked"]) == (LIU["phone"], LIU["name"], False)
    assert await audited(engine, no) == [("lighting", "unit_staff")]
    assert (await contact(api, tokens["op"], no))["masked"] is False
    assert await audited(engine, no) == [("lighting", "unit_staff"), ("op", "operator")]
    shown = await contact(api, tokens["analyst"], no)
    assert shown["phone"] == "138****5678" and shown["name"] == "刘**" and shown["masked"]
    citizen = await contact(api, {"X-Citizen-Token": created["citizen_token"]}, no)
    assert citizen["masked"]
    await contact(api, tokens["water"], no, status=404)  # not theirs: not even its existence
    # once the order is closed, the unit sees it masked
    await act(api, tokens["op"], no, "transfer", {"hotline": "hebei", "reason": "r"})
    assert (await contact(api, tokens["lighting"], no))["masked"]
    assert len(await audited(engine, no)) == 2  # masked views are not personal-data views


async def test_a_reporters_identity_never_reaches_a_unit(api, tokens, engine):
    no = (await intake(api, tokens, street_lights(appeal_type="report", content="举报路灯维修虚报工程量")))["appeal"]["appeal_no"]
    refused = await contact(api, tokens["lighting"], no, status=403)
    assert "relays" in refused["error"]["message"]
    timeline = (await api.get(f"/appeals/{no}/timeline", headers=tokens["lighting"])).text
    detail = (await api.get(f"/appeals/{no}", headers=tokens["lighting"])).text
    for text in (timeline, detail):
        assert LIU["phone"] not in text and LIU["name"] not in text
    assert (await contact(api, tokens["op"], no))["phone"] == LIU["phone"]  # the hotline relays


async def test_a_rotated_citizen_token_replaces_the_old_one(api, tokens):
    created = await intake(api, tokens, street_lights())
    no, old = created["appeal"]["appeal_no"], created["citizen_token"]
    rotated = (await api.post(f"/appeals/{no}/citizen-token", headers=tokens["op"])).json()["citizen_token"]
    assert rotated != old
    assert (await api.get(f"/appeals/{no}", headers={"X-Citizen-Token": old})).status_code == 404
    assert (await api.get(f"/appeals/{no}", headers={"X-Citizen-Token": rotated})).status_code == 200
    assert (await api.post(f"/appeals/{no}/citizen-token", headers=tokens["lighting"])).status_code == 403


async def test_administrators_query_the_personal_data_audit(api, tokens, engine):
    from db.users import DemoUser, ensure_users
    from domain.types import Role

    await ensure_users(engine, (DemoUser("admin-t", "Admin", Role.ADMINISTRATOR),), "test-password-1")
    admin = {"Authorization": "Bearer " + (await api.post("/auth/token", json={"username": "admin-t", "password": "test-password-1"})).json()["access_token"]}
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    await contact(api, tokens["lighting"], no)
    seen = (await api.get("/audit/personal-data", params={"appeal_no": no}, headers=admin)).json()
    assert [(s["username"], s["role"], s["unit_code"]) for s in seen] == [("lighting", "unit_staff", "BJ-LIGHTING")]
    assert (await api.get("/audit/personal-data", headers=tokens["op"])).status_code == 403


async def test_the_audit_cannot_be_rewritten(api, tokens, engine):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    await contact(api, tokens["op"], no)
    for statement in ("UPDATE personal_data_access SET username = 'x' WHERE appeal_no = :n",
                      "DELETE FROM personal_data_access WHERE appeal_no = :n"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(sa.text(statement), {"n": no})
