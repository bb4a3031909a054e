"""What staff and citizens type reaches the timeline and Temporal with the citizen's personal data
hidden: the appeal's own name, phone and address however they are spaced, any mobile or ID
number, while office phones, units and the place of the problem stay readable."""

from __future__ import annotations

import json

from tests.api.test_appeals_e2e import LIU, act, intake, street_lights
from tests.workflows.test_appeal import history_text

OTHER_MOBILE = "13900001111"
ID_NUMBER = "110101199003071234"
SECRETS = (LIU["name"], LIU["phone"], "方家胡同12号", "方家胡同 12 号", OTHER_MOBILE, ID_NUMBER)


async def test_free_text_is_recorded_without_personal_data(api, tokens, dev_env, appeal_worker):
    created = await intake(api, tokens, street_lights())
    no, citizen = created["appeal"]["appeal_no"], {"X-Citizen-Token": created["citizen_token"]}
    lighting = tokens["lighting"]
    await act(api, lighting, no, "accept")
    await act(api, lighting, no, "contact", {
        "note": "已联系刘先生（138 1234 5678），约定到东城区方家胡同12号查看；施工队 139-0000-1111，办公室 010-64001234"
    })
    await act(api, lighting, no, "complete", {"result": "已为刘先生更换方家胡同路灯 3 盏"})
    await act(api, citizen, no, "evaluation", {
        "resolved": True, "satisfaction": "satisfied", "comment": f"我是刘先生，身份证 {ID_NUMBER}，很满意",
    })

    timeline = (await api.get(f"/appeals/{no}/timeline", headers=tokens["op"])).json()
    by_kind = {e["kind"]: e["detail"] for e in timeline}
    note = by_kind["contacted"]["note"]
    assert note == "已联系〔姓名〕（〔电话〕），约定到〔地址〕查看；施工队 〔电话〕，办公室 010-64001234"
    assert by_kind["reported_done"]["result"] == "已为〔姓名〕更换方家胡同路灯 3 盏"  # the place stays
    assert by_kind["evaluated"]["comment"] == "我是〔姓名〕，身份证 〔证件号〕，很满意"

    history = history_text(json.loads((await dev_env.client.get_workflow_handle(f"appeal-{no}").fetch_history()).to_json()))
    assert "010-64001234" in history and "〔电话〕" in history  # the scan reads the payloads
    for secret in SECRETS:
        assert secret not in history and secret not in json.dumps(timeline, ensure_ascii=False)


async def test_an_answer_at_intake_is_scrubbed_too(api, tokens, appeal_worker):
    body = street_lights(
        appeal_type="consultation", category="GOV.CONSULT", decision="answer",
        answer="已告知刘先生：路灯维修请拨打 010-12319，或发短信至 13812345678",
    )
    created = await intake(api, tokens, body)
    timeline = (await api.get(f"/appeals/{created['appeal']['appeal_no']}/timeline", headers=tokens["op"])).json()
    answered = next(e for e in timeline if e["kind"] == "answered")
    assert answered["detail"]["answer"] == "已告知〔姓名〕：路灯维修请拨打 010-12319，或发短信至 〔电话〕"


async def test_text_that_no_longer_fits_is_refused_with_its_field(api, tokens, appeal_worker):
    no = (await intake(api, tokens, street_lights()))["appeal"]["appeal_no"]
    await act(api, tokens["lighting"], no, "accept")
    # 1,998 characters of a three-character name, each becoming the four of 〔姓名〕
    crowded = await act(api, tokens["lighting"], no, "contact", {"note": "刘先生" * 666}, status=422)
    assert crowded["error"]["details"][0]["field"] == "note"
    assert "personal data" in crowded["error"]["message"]
