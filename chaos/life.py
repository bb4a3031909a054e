"""One appeal's whole life over HTTP, as the hotline and a unit would take it: intake by the
operator, then the lighting centre accepts, contacts the citizen, looks at the order, sends a
phased report and reports it done, and the operator's return visit closes it.

Every step is one logical request with its own Idempotency-Key, sent again unchanged on a retry.
Each free-text field carries the step's key, so the timeline tells which request wrote an event.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field

from chaos.client import RetryingClient

BODY = {
    "appeal_type": "complaint",
    "category": "MUNI.STREETLIGHT",
    "location": {"street": "110101-ANDINGMEN", "address": "方家胡同"},
    "content": "胡同路灯昏暗，晚上经常有人摔跤",
    "citizen": {"name": "刘先生", "phone": "13812345678"},
}

#: The timeline such an appeal must end with, one event each.
EXPECTED_KINDS = [
    "received", "dispatched", "accepted", "contacted", "phased_report", "reported_done", "evaluated", "closed",
]

#: (request kind, who, path under /appeals/{no}, body with {key} for the step's key, the event it writes)
STEPS = [
    ("accept", "unit", "accept", {}, "accepted"),
    ("contact", "unit", "contact", {"note": "called the citizen, step {key}"}, "contacted"),
    ("read", "unit", None, None, None),
    ("phased-report", "unit", "phased-report", {"progress": "lamps ordered, step {key}"}, "phased_report"),
    ("complete", "unit", "complete", {"result": "replaced the lamps, step {key}"}, "reported_done"),
    ("evaluation", "operator", "evaluation",
     {"resolved": True, "satisfaction": "satisfied", "comment": "return visit, step {key}"}, "evaluated"),
]

#: How long the unit waits for an order the intake answered before it was dispatched.
DISPATCH_WAIT = 120.0

KINDS = ["intake"] + [kind for kind, *_ in STEPS]


@dataclass
class Step:
    kind: str
    key: str
    event: str | None  # the timeline event it writes
    outcome: str = "not sent"  # "ok", "409 after a retry", or what went wrong
    tries: list[str] = field(default_factory=list)  # what each attempt got


@dataclass
class AppealRun:
    index: int
    intake_key: str
    appeal_no: str | None = None
    steps: list[Step] = field(default_factory=list)
    error: str | None = None
    dispatch_wait: float | None = None  # seconds the unit waited for the order to reach it

    @property
    def finished(self) -> bool:
        return self.error is None and len(self.steps) == len(STEPS)


def new_key(prefix: str) -> str:
    # letters only after the prefix: no digits that the free-text scrubber could take for a phone
    return f"{prefix}-" + secrets.token_hex(8).translate(str.maketrans("0123456789", "ghijklmnop"))


async def live(http: RetryingClient, tokens: dict[str, dict], index: int, run_id: str) -> AppealRun:
    run = AppealRun(index, new_key(f"chaos-{run_id}-{index}-intake"))
    created = await http.request(
        "intake", "POST", "/appeals", json=BODY, headers=tokens["operator"] | {"Idempotency-Key": run.intake_key},
        what=f"appeal #{index} intake",
    )
    if created.status not in (200, 201):
        run.error = f"intake answered {created.status}: {created.body}"
        return run
    no = run.appeal_no = created.body["appeal"]["appeal_no"]
    if created.body["appeal"]["handling_unit"] is None:
        # answered before the workflow dispatched it (its worker was away): the unit learns of
        # the order only once it is dispatched, so wait for that, as the unit would
        run.dispatch_wait = await _until_dispatched(http, tokens["operator"], no)
        if run.dispatch_wait is None:
            run.error = f"not dispatched within {DISPATCH_WAIT:.0f}s of its intake"
            return run
    for kind, who, path, body, event in STEPS:
        step = Step(kind, new_key(f"chaos-{run_id}-{index}-{kind}"), event)
        run.steps.append(step)
        if path is None:
            answer = await http.request("read", "GET", f"/appeals/{no}", headers=tokens[who], what=f"{no} read")
        else:
            filled = {k: v.format(key=step.key) if isinstance(v, str) else v for k, v in body.items()}
            answer = await http.request(
                kind, "POST", f"/appeals/{no}/{path}", json=filled,
                headers=tokens[who] | {"Idempotency-Key": step.key}, what=f"{no} {kind}",
            )
        step.tries = answer.tries
        if answer.status == 200:
            step.outcome = "ok"
        elif answer.status == 409 and answer.attempts > 1:
            # an earlier attempt was applied but its answer lost: the timeline check tells
            step.outcome = "409 after a retry"
        else:
            step.outcome = f"{answer.status} after {answer.attempts} attempt(s): {answer.body}"
            run.error = f"{kind} failed: {step.outcome}"
            return run
    return run


async def _until_dispatched(http: RetryingClient, operator: dict, no: str) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < DISPATCH_WAIT:
        answer = await http.request("read", "GET", f"/appeals/{no}", headers=operator, what=f"{no} dispatched yet?")
        if answer.status == 200 and answer.body.get("handling_unit"):
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    return None
