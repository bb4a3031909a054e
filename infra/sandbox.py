"""The workflow sandbox the worker runs: Temporal's own, with its default restrictions, minus
one cost that buys nothing.

The SDK (temporalio 1.35) enters a workflow's sandbox by `exec`-ing a small source string: once
per activation, and once per payload for each of the six payload passes around it (to ask the
workflow for its serialization context). `exec` of a string compiles it every time: about 26 µs,
some 140 times per appeal, a tenth of the worker's CPU. The strings are the same few every time,
so this runner compiles each once and hands `exec` the code object. What runs in the sandbox,
and every restriction on it, is unchanged.
"""

from __future__ import annotations

from types import CodeType
from typing import Any

from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _Instance

_compiled: dict[str, CodeType] = {}


class _CompiledOnceInstance(_Instance):
    def _run_code(self, code: str, **extra_globals: Any) -> None:
        compiled = _compiled.get(code)
        if compiled is None:
            compiled = _compiled[code] = compile(code, "<string>", "exec")
        super()._run_code(compiled, **extra_globals)  # type: ignore[arg-type]  # exec takes code objects


class SandboxRunner(SandboxedWorkflowRunner):
    """`SandboxedWorkflowRunner` (same restrictions, same isolation per workflow run) whose
    sandbox entries are compiled once per process instead of once per call."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _CompiledOnceInstance(det, self.runner_class, self.restrictions)
