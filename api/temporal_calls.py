"""Sending a staff action to its workflow: one Update, named by the workflow's method (so tools
and types follow the call), with the API's timeout, its Idempotency-Key as the Update's id, and
every way it can fail mapped to the one error shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError, not_answered, refused, workflow_refusal

#: How long a route waits for a workflow to confirm an action before answering 503.
UPDATE_RPC_TIMEOUT = timedelta(seconds=15)


async def send_update(
    temporal: Client,
    workflow_id: str,
    update: Callable,
    cmd: BaseModel,
    *,
    status: str,
    gone: tuple[str, str],
    id: str | None = None,
    rpc_timeout: timedelta = UPDATE_RPC_TIMEOUT,
) -> Any:
    """Send `update` (a workflow method, e.g. `AppealWorkflow.accept`) and return its result.
    A refusal becomes 409/403/422 with `status` (the subject's as the caller saw it); a workflow
    that does not answer in time a 503; a workflow that has ended `gone` (its status and the
    message). With an `id` (see `api.idempotency.update_id`), a retry is answered as the first
    call was."""
    handle = temporal.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(update, cmd, rpc_timeout=rpc_timeout, id=id)
    except WorkflowUpdateFailedError as e:
        refusal = workflow_refusal(e.cause, status)
        if refusal is not None:
            raise refusal from e
        raise ApiError(409, "refused", getattr(e.cause, "message", str(e))) from e
    except WorkflowUpdateRPCTimeoutOrCancelledError as e:
        raise not_answered(rpc_timeout) from e
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            gone_status, message = gone
            raise refused("wrong_state", message, gone_status) from e
        raise
