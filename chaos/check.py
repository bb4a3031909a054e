"""After the faults: every appeal must be whole. One workflow run, one row, a timeline 1..n
without gaps or repeats holding each request's event once, and the row saying what the workflow
says. Each finding names the appeal and what is wrong with it."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import asyncpg
from temporalio.client import Client, WorkflowExecutionStatus

from chaos.life import EXPECTED_KINDS, AppealRun
from domain.messages import AppealView
from workflows.appeal import AppealWorkflow


async def check(runs: list[AppealRun], database_url: str, temporal: Client, key_prefix: str) -> list[str]:
    problems: list[str] = []
    for run in runs:
        if run.appeal_no is None or not run.finished:
            problems.append(f"appeal #{run.index} ({run.appeal_no or 'no number'}) did not go through its life: {run.error}")
    known = {r.appeal_no: r for r in runs if r.appeal_no}

    conn = await asyncpg.connect(database_url)
    try:
        rows = {
            r["appeal_no"]: r
            for r in await conn.fetch(
                "SELECT appeal_no, idempotency_key, status, seq, state FROM appeal WHERE idempotency_key LIKE $1",
                key_prefix + "%",
            )
        }
        events = defaultdict(list)
        for e in await conn.fetch(
            "SELECT appeal_no, seq, kind, detail FROM appeal_event WHERE appeal_no = ANY($1::text[]) ORDER BY appeal_no, seq, id",
            list(known),
        ):
            events[e["appeal_no"]].append(e)
    finally:
        await conn.close()

    problems += _rows(runs, rows)
    problems += await _workflows(known, temporal)
    for no, run in known.items():
        row = rows.get(no)
        problems += timeline_problems(run, events.get(no, []), row)
        if row is not None:
            problems += await _row_is_workflow(no, row, temporal)
    return problems


def _rows(runs: list[AppealRun], rows: dict) -> list[str]:
    problems = []
    by_key = Counter(r["idempotency_key"] for r in rows.values())
    for run in runs:
        count = by_key.get(run.intake_key, 0)
        if run.appeal_no is not None and count != 1:
            problems.append(f"appeal {run.appeal_no}: {count} rows for its intake key {run.intake_key}")
    ours = {r.intake_key for r in runs}
    for no, row in rows.items():
        if row["idempotency_key"] not in ours:
            problems.append(f"appeal {no}: a row nobody asked for (key {row['idempotency_key']})")
    return problems


async def _workflows(known: dict[str, AppealRun], temporal: Client) -> list[str]:
    runs_by_id: Counter = Counter()
    async for w in temporal.list_workflows(f"WorkflowType = '{AppealWorkflow.__name__}'"):
        runs_by_id[w.id] += 1
    problems = []
    for no in known:
        count = runs_by_id.get(f"appeal-{no}", 0)
        if count != 1:
            problems.append(f"appeal {no}: {count} workflow runs for appeal-{no} (one expected)")
    for wid in sorted(set(runs_by_id) - {f"appeal-{no}" for no in known}):
        problems.append(f"workflow {wid}: an appeal workflow no intake answered for")
    return problems


def timeline_problems(run: AppealRun, events: list, row) -> list[str]:
    """Events as rows with seq, kind and detail; `row` the appeal row (or None)."""
    no = run.appeal_no
    problems = []
    seqs = [e["seq"] for e in events]
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append(f"appeal {no}: timeline seq {seqs}, expected 1..{len(seqs)} without gaps or repeats")
    if row is not None and row["seq"] != len(events):
        problems.append(f"appeal {no}: the row says seq {row['seq']} but the timeline has {len(events)} events")

    # which request wrote which event: each step's key is in its free text
    for step in run.steps:
        if step.event is None or step.outcome == "not sent":
            continue
        hits = [e for e in events if e["kind"] == step.event and step.key in _text(e["detail"])]
        if step.event == "accepted":  # no free text: one accept per appeal
            hits = [e for e in events if e["kind"] == "accepted"]
        if len(hits) > 1:
            problems.append(
                f"appeal {no}: the {step.event} event of request {step.kind} (Idempotency-Key {step.key}) is "
                f"recorded {len(hits)} times, seq {', '.join(str(e['seq']) for e in hits)}"
                + (f" (its attempts got: {_runs(step.tries)})" if step.tries else "")
            )
        elif not hits and step.outcome in ("ok", "409 after a retry"):
            problems.append(
                f"appeal {no}: request {step.kind} (Idempotency-Key {step.key}) answered {step.outcome!r} "
                f"but its {step.event} event is not on the timeline"
            )
    kinds = [e["kind"] for e in events]
    if run.finished and kinds != EXPECTED_KINDS:
        repeated = [k for k, n in Counter(kinds).items() if n > 1]
        problems.append(
            f"appeal {no}: timeline {kinds}, expected {EXPECTED_KINDS}"
            + (f" (repeated: {', '.join(repeated)})" if repeated else "")
        )
    return problems


async def _row_is_workflow(no: str, row, temporal: Client) -> list[str]:
    handle = temporal.get_workflow_handle(f"appeal-{no}", result_type=AppealView)
    status = (await handle.describe()).status
    if status == WorkflowExecutionStatus.COMPLETED:
        view, how = await handle.result(), "result"
    elif status == WorkflowExecutionStatus.RUNNING:
        view, how = await handle.query(AppealWorkflow.state), "query state"
    else:
        return [f"appeal {no}: workflow appeal-{no} ended {status.name}"]
    state = row["state"] if isinstance(row["state"], dict) else json.loads(row["state"])
    problems = []
    if (state.get("status"), state.get("seq")) != (view.status.value, view.seq):
        problems.append(
            f"appeal {no}: the row's state is {state.get('status')}/seq {state.get('seq')}, "
            f"the workflow's ({how}) {view.status.value}/seq {view.seq}"
        )
    if (row["status"], row["seq"]) != (view.status.value, view.seq):
        problems.append(
            f"appeal {no}: the row's columns say {row['status']}/seq {row['seq']}, "
            f"the workflow's ({how}) {view.status.value}/seq {view.seq}"
        )
    return problems


def _runs(outcomes: list[str]) -> str:
    """["ConnectError", "ConnectError", "200"] → "ConnectError ×2, 200"."""
    told: list[list] = []
    for o in outcomes:
        if told and told[-1][0] == o:
            told[-1][1] += 1
        else:
            told.append([o, 1])
    return ", ".join(o if n == 1 else f"{o} ×{n}" for o, n in told)


def _text(detail) -> str:
    return detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
