"""The benchmark's floor sends what an appeal receives over the API: a start carrying the first
update (the intake's view), then four more updates (accept, contact, complete, evaluation)."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.worker import Worker

from bench.floor import STEPS, FloorWorkflow, drive


async def test_floor_takes_an_appeals_messages(dev_env, task_queue):
    client = dev_env.client
    async with Worker(client, task_queue=task_queue, workflows=[FloorWorkflow]):
        workflow_id = await drive(client, task_queue)
        handle = client.get_workflow_handle(workflow_id)
        assert await handle.result() == list(STEPS)
        history = await handle.fetch_history()

    kinds = [e.event_type for e in history.events]
    assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) == 1
    assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 5
    assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED) == 5
    # the first update arrived with the start: it is taken in the first workflow task
    first_task_done = kinds.index(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    assert kinds[first_task_done + 1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 5
