"""The generator's worker processes: each builds the rows of a chunk of days and streams them into
PostgreSQL with COPY (asyncpg `copy_records_to_table`), a few thousand appeals at a time.

Chunks are fixed runs of days, independent of how many workers there are, and every chunk starts
from the same state, so the data depends only on the seed, N and the as-of moment."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from bench.analytics import rows
from bench.analytics.mix import Day
from bench.analytics.rows import Batch, Generator
from bench.analytics.world import load_world
from settings import Settings

BATCH = 4000  # appeals per COPY round
CHUNK_DAYS = 28

_generator: Generator | None = None
_dsn: str = ""


@dataclass
class ChunkResult:
    appeals: int = 0
    events: int = 0
    parts: int = 0
    exclusions: int = 0
    topics: int = 0
    seconds: float = 0.0
    cpu: float = 0.0  # this process's CPU time: what the chunk cost, however busy the machine


def init(dsn: str, seed: int, as_of: datetime, n: int) -> None:
    """Pool initializer: the reference data, once per process."""
    global _generator, _dsn
    _dsn = dsn
    world = asyncio.run(load_world(dsn, Settings()))
    _generator = Generator(world, seed, as_of, n)
    if rows.topics is not None:
        rows.topics.warm_up()


def load_chunk(days: list[Day]) -> ChunkResult:
    return asyncio.run(_load(days))


async def _load(days: list[Day]) -> ChunkResult:
    started, cpu = time.perf_counter(), time.process_time()
    result = ChunkResult()
    _generator.last_at.clear()  # recurrences link within a chunk only: the same whatever the workers
    conn = await asyncpg.connect(_dsn)
    try:
        await conn.execute("SET synchronous_commit = off")
        if await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
            # the rows are consistent by construction (a test checks it): skip the per-row
            # foreign-key triggers, as pg_restore does
            await conn.execute("SET session_replication_role = replica")
        batch = Batch()
        for day in days:
            batch.extend(_generator.day(day))
            if len(batch.appeals) >= BATCH:
                await flush(conn, batch, result)
                batch = Batch()
        await flush(conn, batch, result)
    finally:
        await conn.close()
    result.seconds = time.perf_counter() - started
    result.cpu = time.process_time() - cpu
    return result


async def flush(conn: asyncpg.Connection, batch: Batch, result: ChunkResult) -> None:
    if batch.appeals:
        await conn.copy_records_to_table("appeal", records=batch.appeals, columns=rows.APPEAL_COLUMNS)
    if batch.events:
        await conn.copy_records_to_table("appeal_event", records=batch.events, columns=rows.EVENT_COLUMNS)
    if batch.parts:
        await conn.copy_records_to_table("appeal_part", records=batch.parts, columns=rows.PART_COLUMNS)
    if batch.exclusions:
        await conn.copy_records_to_table("assessment_exclusion", records=batch.exclusions, columns=rows.EXCLUSION_COLUMNS)
    if batch.topics:
        await conn.copy_records_to_table("appeal_topic", records=batch.topics, columns=rows.topic_columns())
    result.appeals += len(batch.appeals)
    result.events += len(batch.events)
    result.parts += len(batch.parts)
    result.exclusions += len(batch.exclusions)
    result.topics += len(batch.topics)


def chunks(days: list[Day]) -> list[list[Day]]:
    return [days[i : i + CHUNK_DAYS] for i in range(0, len(days), CHUNK_DAYS)]
