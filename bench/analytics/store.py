"""The database side of the generator: the dataset marker, emptying the appeal tables, taking the
secondary indexes off around the load and putting back exactly what was there, COPY, the
numbering sequence, VACUUM ANALYZE.

The marker is a small table of its own, `bench_dataset`, created by the generator (not by the
migrations: it only exists in databases the generator filled). It says which dataset is loaded
(seed, N, as-of), how long it took, and — while a load runs — the definitions of the indexes taken
off, so an interrupted load can put them back on the next run.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

#: The tables the generator fills (`appeal_topic` once the topics work has created it).
TABLES = ("appeal", "appeal_event", "appeal_part", "assessment_exclusion", "appeal_topic")
#: Derived from appeals: emptied with them (when they exist).
DERIVED = ("assessment_fact", "assessment_rollup", "assessment_run", "appeal_return", "notification_outbox",
           "citizen_contact", "personal_data_access")

MARKER_DDL = """
CREATE TABLE IF NOT EXISTS bench_dataset (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    status text NOT NULL,
    seed bigint NOT NULL,
    n integer NOT NULL,
    as_of timestamptz NOT NULL,
    version integer NOT NULL,
    appeals bigint,
    events bigint,
    timings jsonb NOT NULL DEFAULT '{}',
    pending_indexes jsonb,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
)
"""


@dataclass(frozen=True)
class Dataset:
    status: str  # loading | done
    seed: int
    n: int
    as_of: datetime
    version: int
    appeals: int | None
    events: int | None
    timings: dict[str, float]


async def dataset(conn: asyncpg.Connection) -> Dataset | None:
    if not await conn.fetchval("SELECT to_regclass('bench_dataset') IS NOT NULL"):
        return None
    row = await conn.fetchrow("SELECT status, seed, n, as_of, version, appeals, events, timings FROM bench_dataset")
    if row is None:
        return None
    return Dataset(row["status"], row["seed"], row["n"], row["as_of"], row["version"], row["appeals"], row["events"],
                   json.loads(row["timings"]))


async def mark_loading(conn: asyncpg.Connection, *, seed: int, n: int, as_of: datetime, version: int) -> None:
    await conn.execute(MARKER_DDL)
    await conn.execute(
        """INSERT INTO bench_dataset (id, status, seed, n, as_of, version) VALUES (1, 'loading', $1, $2, $3, $4)
           ON CONFLICT (id) DO UPDATE SET status = 'loading', seed = $1, n = $2, as_of = $3, version = $4,
             appeals = NULL, events = NULL, timings = '{}', started_at = now(), finished_at = NULL""",
        seed, n, as_of, version,
    )


async def mark_done(conn: asyncpg.Connection, *, appeals: int, events: int, timings: dict[str, float]) -> None:
    await conn.execute(
        "UPDATE bench_dataset SET status = 'done', appeals = $1, events = $2, timings = $3, finished_at = now()",
        appeals, events, json.dumps(timings),
    )


async def is_superuser(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))


async def empty(conn: asyncpg.Connection) -> None:
    """Delete every appeal and what hangs off it (TRUNCATE … CASCADE)."""
    existing = [t for t in (*TABLES, *DERIVED) if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", t)]
    await conn.execute(f"TRUNCATE {', '.join(existing)} CASCADE")


# --- indexes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexDef:
    table: str
    name: str
    create: str  # CREATE INDEX … or ALTER TABLE … ADD CONSTRAINT …
    drop: str


async def secondary_indexes(conn: asyncpg.Connection) -> list[IndexDef]:
    """Every plain index of the filled tables, as PostgreSQL itself prints it (so new indexes from
    new migrations are handled too). Primary keys, what a foreign key relies on, and partial or
    expression indexes stay: a predicate printed and parsed again is not always the same
    expression (`outcome IN (…)` comes back as a different array), and the planner matches
    queries to a partial index by its expression."""
    rows = await conn.fetch(
        """
        SELECT c.relname AS tbl, i.relname AS name, pg_get_indexdef(x.indexrelid) AS def,
               con.conname, con.contype, pg_get_constraintdef(con.oid) AS condef,
               EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = x.indexrelid) AS referenced,
               x.indpred IS NOT NULL OR x.indexprs IS NOT NULL AS special
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class c ON c.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid
        WHERE n.nspname = current_schema() AND c.relname = ANY($1::text[]) AND NOT x.indisprimary
        ORDER BY c.relname, i.relname
        """,
        list(TABLES),
    )
    out = []
    for r in rows:
        if r["referenced"] or r["special"] or (r["contype"] is not None and r["contype"] != "u"):
            continue
        if r["contype"] == "u":
            create = f'ALTER TABLE {_q(r["tbl"])} ADD CONSTRAINT {_q(r["conname"])} {r["condef"]}'
            drop = f'ALTER TABLE {_q(r["tbl"])} DROP CONSTRAINT {_q(r["conname"])}'
        else:
            create, drop = r["def"], f'DROP INDEX {_q(r["name"])}'
        out.append(IndexDef(r["tbl"], r["name"], create, drop))
    return out


async def take_off(conn: asyncpg.Connection, indexes: list[IndexDef]) -> None:
    """Remember the definitions in the marker first, then drop."""
    await conn.execute("UPDATE bench_dataset SET pending_indexes = $1",
                       json.dumps([i.__dict__ for i in indexes]))
    async with conn.transaction():
        for i in indexes:
            await conn.execute(i.drop)


async def pending(conn: asyncpg.Connection) -> list[IndexDef]:
    """Indexes an interrupted load took off and never put back."""
    if not await conn.fetchval("SELECT to_regclass('bench_dataset') IS NOT NULL"):
        return []
    raw = await conn.fetchval("SELECT pending_indexes FROM bench_dataset")
    if not raw:
        return []
    wanted = [IndexDef(**d) for d in json.loads(raw)]
    present = {r["relname"] for r in await conn.fetch(
        "SELECT relname FROM pg_class WHERE relkind = 'i' AND relname = ANY($1::text[])", [i.name for i in wanted])}
    return [i for i in wanted if i.name not in present]


async def put_back(dsn: str, indexes: list[IndexDef], jobs: int) -> None:
    """Build the indexes, `jobs` at a time, the largest tables first."""
    size = {"appeal_event": 0, "appeal": 1}
    queue: asyncio.Queue[IndexDef] = asyncio.Queue()
    for i in sorted(indexes, key=lambda i: size.get(i.table, 2)):
        queue.put_nowait(i)

    async def builder() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("SET maintenance_work_mem = '512MB'")
            while not queue.empty():
                await conn.execute(queue.get_nowait().create)
        finally:
            await conn.close()

    await asyncio.gather(*(builder() for _ in range(max(1, jobs))))


async def indexes_restored(conn: asyncpg.Connection) -> None:
    await conn.execute("UPDATE bench_dataset SET pending_indexes = NULL")


# --- after the load --------------------------------------------------------------------------------

async def next_number(conn: asyncpg.Connection) -> int:
    """The value `appeal_no_seq` would hand out next."""
    row = await conn.fetchrow("SELECT last_value, is_called FROM appeal_no_seq")
    return row["last_value"] + 1 if row["is_called"] else row["last_value"]


async def numbers_used(conn: asyncpg.Connection, last: int) -> None:
    """Real intakes number after the generated appeals."""
    await conn.execute("SELECT setval('appeal_no_seq', greatest($1, (SELECT last_value FROM appeal_no_seq)))", last)


async def vacuum_analyze(dsn: str, jobs: int) -> None:
    """Visibility map and statistics, as autovacuum would leave a table that has settled (the
    index-only scans of the assessment need the first)."""
    queue = [t for t in TABLES if t in await _existing(dsn)]

    async def worker() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            while queue:
                await conn.execute(f"VACUUM (ANALYZE) {queue.pop(0)}")
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(max(1, jobs))))


async def counts(conn: asyncpg.Connection) -> dict[str, Any]:
    return {
        "appeals": await conn.fetchval("SELECT count(*) FROM appeal"),
        "events": await conn.fetchval("SELECT count(*) FROM appeal_event"),
    }


async def _existing(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return {r[0] for r in await conn.fetch("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname = ANY($1::text[])",
                                                list(TABLES))}
    finally:
        await conn.close()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
