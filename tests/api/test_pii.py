"""Personal data is sealed at rest, opens with the current or a former key, and re-seals."""

import sqlalchemy as sa

from db.pii import Sealer, reseal_all
from tests.api.test_appeals_e2e import LIU, intake, street_lights


def test_seal_and_open_with_rotation():
    old = Sealer("an-old-key-of-16-chars")
    sealed = old.seal("13812345678")
    assert sealed.startswith("v1:") and "13812345678" not in sealed
    assert old.seal("13812345678") != sealed  # a fresh nonce every time
    rotated = Sealer("a-new-key-of-16-chars!", previous=["an-old-key-of-16-chars"])
    assert rotated.open(sealed) == "13812345678"
    assert Sealer("a-new-key-of-16-chars!").open(rotated.reseal(sealed)) == "13812345678"
    assert rotated.open("plain, from before sealing") == "plain, from before sealing"
    try:
        Sealer("a-third-key-16-chars!!").open(sealed)
        raise AssertionError("opened with the wrong key")
    except ValueError as e:
        assert "PII_PREVIOUS_KEYS" in str(e)


async def test_the_database_holds_no_readable_personal_data(api, tokens, engine, settings, appeal_worker):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    async with engine.connect() as conn:
        row = (await conn.execute(sa.text("SELECT name, phone, address FROM citizen_contact WHERE appeal_no = :n"),
                                  {"n": no})).one()
    assert LIU["phone"] not in str(tuple(row)) and LIU["name"] not in str(tuple(row))
    assert (await api.get(f"/appeals/{no}/contact", headers=tokens["op"])).json()["phone"] == LIU["phone"]
    assert await reseal_all(engine, Sealer.from_settings(settings)) >= 1
    assert (await api.get(f"/appeals/{no}/contact", headers=tokens["op"])).json()["phone"] == LIU["phone"]
