"""Every time the API answers with is Beijing time with its offset: an appeal, its timeline (the
workflow's details included), lists, the action answers, errors and CSV."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from api.beijing import in_beijing_time
from tests.api.test_appeals_e2e import act, intake, street_lights, wait_for

pytestmark = pytest.mark.usefixtures("appeal_worker")

TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})")


def offsets(text: str) -> set[str]:
    """The offsets of every time written in `text`."""
    return {m.group(1) for m in TIME.finditer(text)}


def test_times_are_turned_however_deep_and_nothing_else_is():
    utc = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    content = {"at": "2026-12-02T10:30:00Z", "detail": {"due": "2026-12-02T10:30:00+00:00", "list": [utc]},
               "text": "路灯 2026-12-02T10:30:00Z 不亮", "day": "2026-12-02", "number": 3}
    assert in_beijing_time(content) == {
        "at": "2026-12-02T18:30:00+08:00",
        "detail": {"due": "2026-12-02T18:30:00+08:00", "list": ["2026-12-02T18:30:00+08:00"]},
        "text": "路灯 2026-12-02T10:30:00Z 不亮",  # what people wrote stays as written
        "day": "2026-12-02",
        "number": 3,
    }


async def test_an_appeals_answers_are_in_beijing_time(api, tokens):
    created = await intake(api, tokens, street_lights())
    no = created["appeal"]["appeal_no"]
    await wait_for(api, tokens["op"], no, lambda a: a["status"] == "dispatched")
    answers = [await act(api, tokens["lighting"], no, "accept")]
    answers.append(await act(api, tokens["lighting"], no, "contact", {"note": "called"}))
    for path, who in ((f"/appeals/{no}", "op"), (f"/appeals/{no}/timeline", "op"), ("/appeals?limit=5", "op"),
                      (f"/appeals/{no}/timeline", "lighting")):
        r = await api.get(path, headers=tokens[who])
        assert r.status_code == 200, r.text
        answers.append(r.text)
    text = "\n".join(a if isinstance(a, str) else str(a) for a in answers)
    assert offsets(text) == {"+08:00"}, "times in another offset than Beijing's"
    timeline = (await api.get(f"/appeals/{no}/timeline", headers=tokens["op"])).json()
    dispatched = next(e for e in timeline if e["kind"] == "dispatched")
    assert dispatched["detail"]["completion_due"].endswith("+08:00")  # written by the workflow in UTC
