"""The outbox relay: delivers what the appeal projection wrote into `notification_outbox`.

The projection activity writes a notification in the same transaction as the timeline event
that caused it (a transactional outbox), so a notification exists exactly when its event does.
This module gets it to the recipient.

Guarantees:

- **At least once.** A row is claimed, sent, and marked delivered in one transaction. A crash or
  a lost database connection between the send and the commit leaves the row pending, and the
  next round sends it again; receivers dedupe on `Idempotency-Key` (the row's `idem_key`).
- **Several relays may run at once** (one per worker, say): rows are claimed with
  `SELECT … FOR UPDATE SKIP LOCKED`, so a row one relay is delivering is invisible to the others
  until it commits.
- **Order is by id within a batch, best effort overall**: a row waiting for a retry is
  overtaken by newer ones.

A row's state, read from its fields (there is no status column):

- *pending*: `delivered_at IS NULL AND attempts < 12`; claimed once `next_attempt_at` passes.
- *delivered*: `delivered_at IS NOT NULL` (`last_error` keeps the last failure before it, if any).
- *failed*: `delivered_at IS NULL AND attempts >= 12`; never claimed again, `last_error` says
  why. A permanent failure (the receiver answered 4xx) sets `attempts` to 12 at once; temporary
  ones get there one by one, waiting 10 s × 2^(attempts so far), at most 1 h, between tries
  (about 3½ hours in all). To send failed rows again, an operator sets `attempts = 0,
  next_attempt_at = now()` on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.models import Notification
from notify.senders import DeliveryFailure, Outgoing, PermanentFailure, Sender

log = logging.getLogger("jiesu.notify")

#: After this many failed attempts a row is failed and no longer claimed.
MAX_ATTEMPTS = 12
FIRST_RETRY_S = 10
MAX_RETRY_S = 3600
#: The width of `notification_outbox.last_error`.
ERROR_LIMIT = 500

OUTBOX: sa.Table = Notification.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class DeliveryReport:
    """What one round did with the rows it claimed."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.delivered + self.retried + self.failed


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after a failure when `attempts` tries had failed before it."""
    return timedelta(seconds=min(FIRST_RETRY_S * 2 ** min(attempts, 20), MAX_RETRY_S))


async def deliver_pending(
    engine: AsyncEngine, sender: Sender, *, batch: int = 100, now: datetime | None = None
) -> DeliveryReport:
    """One round: claim up to `batch` due rows, send each, record the outcomes, commit.

    `now` (timezone-aware) stands in for the database clock, for tests and backfills; by
    default the round runs on PostgreSQL's `now()`, so relays on different hosts agree on what
    is due. The claimed rows stay locked while they are sent, so a slow receiver holds them (and
    one connection) for up to `batch` × the sender's timeout.
    """
    delivered: list[int] = []
    retried = failed = 0
    async with engine.begin() as conn:
        if now is None:
            now = (await conn.execute(sa.select(sa.func.now()))).scalar_one()
        rows = (
            await conn.execute(
                sa.select(OUTBOX)
                .where(
                    OUTBOX.c.delivered_at.is_(None),
                    OUTBOX.c.attempts < MAX_ATTEMPTS,
                    OUTBOX.c.next_attempt_at <= now,
                )
                .order_by(OUTBOX.c.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).mappings().all()
        for row in rows:
            try:
                await sender.send(Outgoing.model_validate(dict(row)))
            except PermanentFailure as e:
                await _give_up(conn, row, MAX_ATTEMPTS, f"permanent: {e}")
                failed += 1
            except Exception as e:  # temporary, or a sender's bug: retried until MAX_ATTEMPTS
                error = str(e) if isinstance(e, DeliveryFailure) else f"{type(e).__name__}: {e}"
                attempts = row["attempts"] + 1
                if attempts >= MAX_ATTEMPTS:
                    await _give_up(conn, row, attempts, error)
                    failed += 1
                else:
                    await _retry_later(conn, row, attempts, error, now + retry_delay(row["attempts"]))
                    retried += 1
            else:
                delivered.append(row["id"])
        if delivered:
            await conn.execute(
                sa.update(OUTBOX).where(OUTBOX.c.id.in_(delivered)).values(delivered_at=now)
            )
    return DeliveryReport(delivered=len(delivered), retried=retried, failed=failed)


async def _retry_later(
    conn: AsyncConnection, row: Any, attempts: int, error: str, at: datetime
) -> None:
    log.warning(
        "notification %s to %s failed (attempt %d), retrying at %s: %s",
        row["idem_key"], row["recipient"], attempts, at.isoformat(timespec="seconds"), error,
    )
    await conn.execute(
        sa.update(OUTBOX)
        .where(OUTBOX.c.id == row["id"])
        .values(attempts=attempts, last_error=error[:ERROR_LIMIT], next_attempt_at=at)
    )


async def _give_up(conn: AsyncConnection, row: Any, attempts: int, error: str) -> None:
    log.error(
        "notification %s to %s failed for good after %d attempt(s): %s",
        row["idem_key"], row["recipient"], row["attempts"] + 1, error,
    )
    await conn.execute(
        sa.update(OUTBOX)
        .where(OUTBOX.c.id == row["id"])
        .values(attempts=attempts, last_error=error[:ERROR_LIMIT])
    )


async def run_relay(
    engine: AsyncEngine,
    sender: Sender,
    stop: asyncio.Event,
    interval: float = 2.0,
    *,
    batch: int = 100,
) -> None:
    """Deliver until `stop` is set. A full batch is followed at once by the next; otherwise the
    relay waits `interval` seconds. A round that fails (PostgreSQL away, say) is logged and
    tried again after the interval: the relay outlives outages and only `stop` ends it. The
    sender stays open; closing it is the caller's."""
    log.info("notification relay running (every %gs, batches of %d)", interval, batch)
    failing = 0
    while not stop.is_set():
        busy = False
        try:
            report = await deliver_pending(engine, sender, batch=batch)
        except Exception as e:
            failing += 1
            if failing == 1:
                log.exception("notification relay round failed; trying again every %gs", interval)
            else:
                log.warning("notification relay round failed (%d in a row): %r", failing, e)
        else:
            if failing:
                log.info("notification relay recovered after %d failed round(s)", failing)
                failing = 0
            if report.claimed:
                log.info(
                    "notifications: %d delivered, %d to retry, %d failed",
                    report.delivered, report.retried, report.failed,
                )
            busy = report.claimed >= batch
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
    log.info("notification relay stopped")
