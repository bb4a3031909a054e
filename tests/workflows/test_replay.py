"""Appeals outlive deployments: every recorded history under tests/histories (finished and in
flight, made by earlier code) must replay on the current code. A change that would break an
appeal already in flight fails here; put it behind `workflow.patched`."""

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from domain.messages import part_workflow_id
from worker import WORKFLOWS
from workflows.converter import DATA_CONVERTER

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    raw = json.loads(path.read_text())
    started = raw["events"][0]["workflowExecutionStartedEventAttributes"]
    first = json.loads(base64.b64decode(started["input"]["payloads"][0]["data"]))
    # the real workflow id: child ids and keys derive from it
    kind = started["workflowType"]["name"]
    if kind == "GovernanceTaskWorkflow":
        return WorkflowHistory.from_json(f"governance-{first['task_id']}", raw)
    if kind == "GovernanceInspectionWorkflow":  # as the task's Schedule names its runs
        return WorkflowHistory.from_json(f"governance-{first['task_id']}-inspection-2026-11-22T00:00:00Z", raw)
    if kind == "MonthlyAnalysisWorkflow":
        return WorkflowHistory.from_json("monthly-analysis-2026-12-01T00:00:00Z", raw)
    if "parent_workflow_id" in first:  # a part (CoHandlingWorkflow)
        return WorkflowHistory.from_json(part_workflow_id(first["appeal_no"], first["kind"], first["unit"]), raw)
    return WorkflowHistory.from_json(f"appeal-{first['appeal_no']}", raw)


def test_there_are_finished_and_in_flight_histories():
    names = {p.stem for p in HISTORIES}
    assert any(n.endswith("_in_flight") for n in names)
    assert len(names - {n for n in names if n.endswith("_in_flight")}) >= 2


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays_on_current_code(path):
    result = await Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER).replay_workflow(
        load(path), raise_on_replay_failure=False
    )
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
