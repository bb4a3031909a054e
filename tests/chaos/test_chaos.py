"""`make chaos` in small: a few dozen appeals while each piece of a private stack (worker,
Temporal dev server, PostgreSQL, API) is SIGKILLed and restarted once, then every appeal checked.
About two minutes; deselect with `-m "not chaos"`."""

from __future__ import annotations

import pytest

from chaos.check import timeline_problems
from chaos.life import EXPECTED_KINDS, STEPS, AppealRun, Step
from chaos.run import Config, render, run


def _finished_run(no: str) -> AppealRun:
    r = AppealRun(0, "chaos-x-0-intake-abc", appeal_no=no)
    r.steps = [Step(kind, f"chaos-x-0-{kind}-key", event, "ok") for kind, _, _, _, event in STEPS]
    return r


def _events(r: AppealRun, kinds: list[str]) -> list[dict]:
    key_of = {s.event: s.key for s in r.steps if s.event}
    return [{"seq": i, "kind": k, "detail": {"text": f"step {key_of.get(k, '')}"}} for i, k in enumerate(kinds, 1)]


def test_a_whole_timeline_passes():
    r = _finished_run("BJ-20260101-000001")
    assert timeline_problems(r, _events(r, EXPECTED_KINDS), {"seq": len(EXPECTED_KINDS)}) == []


def test_a_repeated_phased_report_is_named_with_its_appeal_and_events():
    r = _finished_run("BJ-20260101-000002")
    kinds = EXPECTED_KINDS[:5] + ["phased_report"] + EXPECTED_KINDS[5:]
    problems = timeline_problems(r, _events(r, kinds), {"seq": len(kinds)})
    assert problems[0] == (
        "appeal BJ-20260101-000002: the phased_report event of request phased-report "
        "(Idempotency-Key chaos-x-0-phased-report-key) is recorded 2 times, seq 5, 6"
    )
    assert "repeated: phased_report" in problems[1]


def test_gaps_and_lost_events_are_named():
    r = _finished_run("BJ-20260101-000003")
    events = [e for e in _events(r, EXPECTED_KINDS) if e["kind"] != "reported_done"]
    problems = timeline_problems(r, events, {"seq": 8})
    assert any("timeline seq [1, 2, 3, 4, 5, 7, 8]" in p for p in problems)
    assert any("the row says seq 8 but the timeline has 7 events" in p for p in problems)
    assert any("request complete" in p and "not on the timeline" in p for p in problems)


@pytest.mark.chaos
async def test_appeals_survive_every_piece_killed_once(tmp_path):
    report = await run(
        Config(appeals=30, rounds=1, concurrency=6, hold=1.5, recovery_timeout=60, data_dir=tmp_path / "stack")
    )
    text = render(report)
    print(text)
    assert len(report.faults) == 4 and all(f.downtime is not None for f in report.faults), text
    assert report.ok, text
