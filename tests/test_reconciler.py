"""The worker's intake reconciler keeps the documented word (docs/appeal-life.md): a start lost to a crash is made
within a minute, and soon after PostgreSQL or Temporal come back. Its loop runs here on a
simulated clock (its rounds and its pause replaced), so no test waits a minute."""

from __future__ import annotations

import asyncio

import pytest

import worker
from worker import reconcile_intakes

MINUTE = 60.0


async def started_at(lost_at: float, *, down: tuple[float, float] | None = None, loop_begins: float = 0.0) -> float:
    """When the loop, begun at `loop_begins`, starts an intake whose start was lost at `lost_at`;
    every round fails while PostgreSQL is `down` (from, to)."""
    clock = loop_begins
    stop = asyncio.Event()
    started: list[float] = []

    async def resume(engine, client, task_queue, *, grace):
        if down and down[0] <= clock < down[1]:
            raise ConnectionRefusedError("PostgreSQL is down")
        if not started and clock >= lost_at + grace.total_seconds():
            started.append(clock)
        return []

    async def pause(stop_event: asyncio.Event, seconds: float) -> None:
        nonlocal clock
        assert stop_event is stop
        clock += seconds
        if started or clock > lost_at + 10 * MINUTE:
            stop.set()

    await reconcile_intakes(None, None, "appeals", stop, steps=[resume, resume], pause=pause)
    assert started, "never started"
    return started[0]


@pytest.mark.parametrize("phase", [0.0, 0.1, 1.0, 7.5, 14.9, 15.0, 29.9, 44.0, 59.0])
async def test_a_lost_start_is_made_within_a_minute(phase):
    """Whatever the loop's phase when the start was lost."""
    lost_at = 100.0 + phase
    assert await started_at(lost_at) - lost_at <= MINUTE


async def test_after_an_outage_the_next_round_comes_soon(caplog):
    """PostgreSQL is down just when the intake's turn comes: the round fails, and the next one
    runs within RECONCILE_RETRY of its return, not a full round later."""
    lost_at = 0.0
    turn = lost_at + worker.INTAKE_GRACE.total_seconds()
    back = turn + 32.0  # a full round later would be turn + 45
    started = await started_at(lost_at, down=(turn - 1.0, back))
    assert back <= started <= back + worker.RECONCILE_RETRY.total_seconds()
    assert "intake reconciliation failed" in caplog.text


def test_the_documented_bound_holds():
    grace, every = worker.INTAKE_GRACE.total_seconds(), worker.RECONCILE_EVERY.total_seconds()
    assert grace + every <= MINUTE
    assert worker.RECONCILE_RETRY < worker.RECONCILE_EVERY
    # longer than the intake's own attempt, so the reconciler does not race it
    from api.intake import INTAKE_WAIT

    assert worker.INTAKE_GRACE > 2 * INTAKE_WAIT
