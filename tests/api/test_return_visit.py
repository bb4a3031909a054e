"""Through HTTP: the return visit's answer on contact drives the response rate, and a consultation
answered on the spot is no open order yet stays evaluable."""

from __future__ import annotations

import uuid

import pytest

from tests.api.test_appeals_e2e import act, intake, street_lights

pytestmark = pytest.mark.usefixtures("appeal_worker")

DONGHUAMEN = "110101-DONGHUAMEN"  # no other test's street lights are here


async def _counts(api, tokens) -> dict:
    r = await api.get("/assessment/rates", headers=tokens["analyst"],
                      params={"group": "unit", "unit": "BJ-LIGHTING", "street": DONGHUAMEN})
    assert r.status_code == 200, r.text
    return r.json()["total"]["counts"]


async def _drill(api, tokens, measure: str) -> dict[str, dict]:
    r = await api.get("/assessment/appeals", headers=tokens["analyst"],
                      params={"unit": "BJ-LIGHTING", "street": DONGHUAMEN, "measure": measure, "limit": 5000})
    assert r.status_code == 200, r.text
    return {i["appeal_no"]: i for i in r.json()["items"]}


async def _supervision(api, tokens) -> list[str]:
    """Every appeal GET /supervision lists now, page by page."""
    seen, offset = [], 0
    while True:
        r = await api.get("/supervision", headers=tokens["supervisor"], params={"limit": 200, "offset": offset})
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [a["appeal_no"] for a in page["items"]]
        offset += 200
        if offset >= page["total"]:
            return seen


async def _lights_done(api, tokens) -> tuple[str, dict]:
    created = await intake(api, tokens, street_lights(location={"street": DONGHUAMEN, "address": "东华门大街"}))
    no, citizen = created["appeal"]["appeal_no"], {"X-Citizen-Token": created["citizen_token"]}
    lighting = tokens["lighting"]
    await act(api, lighting, no, "accept")
    contacted = await act(api, lighting, no, "contact", {"note": "called the citizen"})
    assert contacted["limits"]["contact"]["met_in_time"] is True  # the unit's record: in time
    await act(api, lighting, no, "complete", {"result": "replaced the lamps"})
    return no, citizen


async def test_a_citizen_who_says_no_outweighs_the_units_record(api, tokens):
    before = await _counts(api, tokens)
    said_no, citizen = await _lights_done(api, tokens)
    closed = await act(api, citizen, said_no, "evaluation",
                       {"resolved": True, "satisfaction": "satisfied", "contacted": "no"})
    assert (closed["status"], closed["citizen_contacted"]) == ("closed", "no")
    not_asked, _ = await _lights_done(api, tokens)
    await act(api, tokens["op"], not_asked, "evaluation", {"resolved": True, "satisfaction": "satisfied"})

    after = await _counts(api, tokens)
    assert after["base"] - before["base"] == 2
    assert after["contacted_in_time"] - before["contacted_in_time"] == 2  # both units recorded contact in time
    assert after["responded"] - before["responded"] == 1  # only the one whose citizen was not asked

    behind = await _drill(api, tokens, "not_responded")
    row = behind[said_no]
    assert (row["contacted_in_time"], row["citizen_contacted"], row["responded"], row["response_source"]) == (
        True, "no", False, "citizen")
    responded = await _drill(api, tokens, "responded")
    assert said_no not in responded
    assert (responded[not_asked]["response_source"], responded[not_asked]["citizen_contacted"]) == (
        "unit_record", "not_asked")

    timeline = (await api.get(f"/appeals/{said_no}/timeline", headers=tokens["op"])).json()
    evaluated = [e for e in timeline if e["kind"] == "evaluated"]
    assert evaluated[-1]["detail"]["contacted"] == "no"


async def test_a_re_handled_appeal_counts_its_last_answer(api, tokens):
    no, citizen = await _lights_done(api, tokens)
    back = await act(api, citizen, no, "evaluation",
                     {"resolved": False, "satisfaction": "unsatisfied", "contacted": "no"})
    assert (back["status"], back["citizen_contacted"]) == ("rehandling", None)
    await act(api, tokens["lighting"], no, "contact", {"note": "came round this time"})
    await act(api, tokens["lighting"], no, "complete", {"result": "fixed"})
    await act(api, citizen, no, "evaluation", {"resolved": True, "satisfaction": "satisfied", "contacted": "yes"})
    row = (await _drill(api, tokens, "responded"))[no]
    assert (row["citizen_contacted"], row["response_source"]) == ("yes", "citizen")


async def test_a_bad_contacted_answer_is_a_422(api, tokens):
    no, citizen = await _lights_done(api, tokens)
    r = await api.post(f"/appeals/{no}/evaluation", headers=citizen,
                       json={"resolved": True, "satisfaction": "satisfied", "contacted": "maybe"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", r.text


async def test_an_answered_consultation_is_no_open_order_but_can_be_evaluated(api, tokens):
    marker = f"answered-{uuid.uuid4().hex[:8]}"
    place = {"street": "110101-ANDINGMEN", "address": f"国子监街 {marker}"}
    consultation = {"appeal_type": "consultation", "category": "GOV.CONSULT", "location": place,
                    "content": f"怎么办理居住证 {marker}"}
    # held first, and a supervisor chases it; then the operator answers it on the spot
    held = await intake(api, tokens, consultation | {"decision": "hold"})
    no, citizen = held["appeal"]["appeal_no"], {"X-Citizen-Token": held["citizen_token"]}
    chased = await act(api, tokens["supervisor"], no, "supervise", {"note": "held for too long"})
    assert chased["supervised"] is True
    answered = await act(api, tokens["op"], no, "answer", {"answer": "携带身份证到社区服务中心办理"})
    assert answered["status"] == "answered"
    # the same question again, held: the answered one is no open order to link it to
    again = await intake(api, tokens, consultation | {"decision": "hold"})
    other = again["appeal"]["appeal_no"]

    async def listed(params: dict) -> list[str]:
        r = await api.get("/appeals", headers=tokens["op"], params={"q": marker, "limit": 200} | params)
        assert r.status_code == 200, r.text
        return [a["appeal_no"] for a in r.json()["items"]]

    assert await listed({"open": "true"}) == [other]
    assert await listed({"open": "false"}) == [no]
    assert set(await listed({})) == {no, other}
    assert no not in await _supervision(api, tokens)
    duplicates = await api.get(f"/appeals/{other}/duplicates", headers=tokens["op"])
    assert duplicates.status_code == 200, duplicates.text
    assert no not in [a["appeal_no"] for a in duplicates.json()]

    # the citizen still evaluates it within the return-visit window
    evaluated = await act(api, citizen, no, "evaluation", {"resolved": True, "satisfaction": "satisfied"})
    assert (evaluated["status"], evaluated["outcome"]) == ("closed", "resolved")
    assert await listed({"open": "false"}) == [no]
