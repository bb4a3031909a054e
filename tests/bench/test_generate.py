"""The benchmark's generator writes appeals a real deployment could hold: 2,000 of them into a fresh
database, then the rules a user of the figures relies on — closed-unresolved is never resolved,
timelines are in order and end as the row says, the mix is the one asked for, every constraint
holds although the load skipped the per-row checks, the assessment's index sees what its predicate
says — and the rows are exactly what the workflow's projection writes for the same view."""

from __future__ import annotations

import asyncio
import json
import math
from datetime import datetime

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from activities.appeals import AppealActivities, ProjectionInput
from bench.analytics import mix, store
from bench.generate import generate
from db.migrate import migrate
from db.session import make_engine
from domain.calendar import CHINA_TZ
from domain.messages import Actor, AppealView, TimelineEvent
from domain.types import Role
from tests.conftest import settings_for

N = 2000
SEED = 7
AS_OF = datetime(2026, 11, 22, 12, 0, tzinfo=CHINA_TZ)
FILLED = ("appeal", "appeal_event", "appeal_part", "assessment_exclusion", "appeal_topic")


async def _migrated(pg_server) -> str:
    url = await pg_server.create_database("jiesu_gen")
    engine = make_engine(settings_for(url))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    return url


async def _indexes(url: str) -> set[tuple[str, str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT tablename, indexdef FROM pg_indexes WHERE tablename = ANY($1::text[])", list(FILLED)
        )
        return {(r["tablename"], r["indexdef"]) for r in rows}
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def generated(pg_server):
    url = await _migrated(pg_server)
    before = await _indexes(url)
    report = await asyncio.to_thread(generate, url, N, seed=SEED, as_of=AS_OF, jobs=1, freeze=False, log=lambda *_: None)
    return url, report, before


@pytest_asyncio.fixture(loop_scope="session")
async def db(generated):
    conn = await asyncpg.connect(generated[0])
    yield conn
    await conn.close()


async def test_writes_n_appeals_with_their_timelines_and_keeps_every_index(generated, db):
    url, report, before = generated
    assert await db.fetchval("SELECT count(*) FROM appeal") == N == report.appeals
    assert await db.fetchval("SELECT count(*) FROM appeal_event") == report.events > 6 * N
    assert await _indexes(url) == before  # taken off for the load, put back exactly
    assert await db.fetchval("SELECT pending_indexes FROM bench_dataset") is None
    # real intakes number after the generated appeals
    last = await db.fetchval("SELECT max(substr(appeal_no, 13)::int) FROM appeal")
    assert await db.fetchval("SELECT nextval('appeal_no_seq')") == last + 1
    dataset = await store.dataset(db)
    assert (dataset.status, dataset.n, dataset.seed) == ("done", N, SEED)


async def test_closed_unresolved_is_never_resolved(db):
    assert await db.fetchval("SELECT count(*) FROM appeal WHERE outcome = 'unresolved'") > 0
    assert await db.fetchval(
        "SELECT count(*) FROM appeal WHERE coalesce(outcome = 'resolved', false) <> coalesce(resolved, false)"
    ) == 0
    assert await db.fetchval("SELECT count(*) FROM appeal WHERE (status = 'closed') <> (outcome IS NOT NULL)") == 0
    assert await db.fetchval(
        "SELECT count(*) FROM appeal WHERE (outcome IN ('resolved', 'unresolved')) <> (satisfaction IS NOT NULL)"
    ) == 0


async def test_timelines_are_in_order_and_end_as_the_row_says(db):
    bad = await db.fetch(
        """
        WITH e AS (
            SELECT appeal_no, seq, kind, occurred_at,
                   lag(occurred_at) OVER w AS before, row_number() OVER w AS n,
                   last_value(kind) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_kind,
                   max(occurred_at) OVER (PARTITION BY appeal_no) AS last_at
            FROM appeal_event WINDOW w AS (PARTITION BY appeal_no ORDER BY seq)
        )
        SELECT a.appeal_no FROM appeal a JOIN e USING (appeal_no)
        GROUP BY a.appeal_no, a.seq, a.status, a.closed_at, a.received_at
        HAVING count(*) <> a.seq OR max(e.seq) <> a.seq OR bool_or(e.n <> e.seq)
            OR bool_or(e.occurred_at < e.before)
            OR min(e.kind) FILTER (WHERE e.seq = 1) <> 'received'
            OR min(e.occurred_at) < a.received_at
            OR (a.status = 'closed') <> (min(e.last_kind) IN ('closed', 'not_accepted', 'transferred_to_emergency'))
            OR (a.status = 'closed' AND a.closed_at <> min(e.last_at))
        """
    )
    assert bad == []
    assert await db.fetchval(
        """SELECT count(*) FROM appeal a WHERE rehandle_count <>
           (SELECT count(*) FROM appeal_event e WHERE e.appeal_no = a.appeal_no AND e.kind = 'rehandling')"""
    ) == 0
    assert await db.fetchval(
        """SELECT count(*) FROM appeal a WHERE jsonb_array_length(state->'units') <>
           (SELECT count(*) FROM appeal_event e WHERE e.appeal_no = a.appeal_no AND e.kind = 'dispatched')"""
    ) == 0


def _close(observed: int, expected: float) -> bool:
    """Within four standard deviations of a binomial count (plus one, for tiny expectations)."""
    return abs(observed - expected) <= 4 * math.sqrt(max(expected, 1.0)) + 1


async def test_the_mix_is_the_one_asked_for(db):
    decisions = dict(await db.fetch(
        "SELECT detail->>'decision', count(*) FROM appeal_event WHERE kind = 'received' GROUP BY 1"))
    consultations = await db.fetchval("SELECT count(*) FROM appeal WHERE appeal_type = 'consultation'")
    assert _close(decisions.get("answer", 0), mix.ANSWERED_SHARE * consultations)
    eligible = N - decisions.get("answer", 0) - decisions.get("emergency", 0)
    assert _close(decisions.get("not_accepted", 0), mix.NOT_ACCEPTED_SHARE * eligible)
    assert _close(decisions.get("hold", 0), mix.HOLD_SHARE * eligible)
    outcomes = dict(await db.fetch("SELECT coalesce(outcome, 'open'), count(*) FROM appeal GROUP BY 1"))
    assert outcomes["not_accepted"] == decisions.get("not_accepted", 0)
    assert outcomes.get("emergency_transferred", 0) == decisions.get("emergency", 0)
    evaluated = outcomes["resolved"] + outcomes["unresolved"]
    assert 0.85 <= outcomes["resolved"] / evaluated <= 0.97  # Beijing's resolution rate is about 90 %
    assert 0.03 <= outcomes["not_evaluated"] / (evaluated + outcomes["not_evaluated"]) <= 0.2
    assert 0.005 <= outcomes["open"] / N <= 0.08  # the last days are still being handled
    # categories: Zipf-like, the heavy hitters first; districts by population
    top = await db.fetch("SELECT category_code FROM appeal GROUP BY 1 ORDER BY count(*) DESC LIMIT 5")
    assert "HOUSING.PROPERTY" in {r[0] for r in top}
    districts = [r[0] for r in await db.fetch("SELECT district_code FROM appeal GROUP BY 1 ORDER BY count(*) DESC")]
    assert set(districts[:4]) >= {"110105", "110108"}
    shares = dict(await db.fetch(
        "SELECT overdue, count(*)::float / $1 FROM appeal GROUP BY 1", N))
    assert 0.02 <= shares[True] <= 0.2
    assert await db.fetchval("SELECT count(*) FROM appeal WHERE excluded") > 0
    assert await db.fetchval("SELECT count(*) FROM appeal WHERE latitude IS NOT NULL") > N * 0.05


async def test_rising_problems_and_recurring_places_are_there_to_find(db):
    surge = next(s for s in mix.SURGES if s.name == "lights-wangjing")
    recent, before = await db.fetchrow(
        """SELECT count(*) FILTER (WHERE received_at >= $3::timestamptz - interval '30 days'),
                  count(*) FILTER (WHERE received_at < $3::timestamptz - interval '30 days')
           FROM appeal WHERE category_code = $1 AND street_code = $2""",
        surge.category, surge.street, AS_OF,
    )
    assert recent > before
    heating = dict(await db.fetch(
        """SELECT to_char(received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), count(*) FROM appeal
           WHERE category_code = 'UTIL.HEAT.NOHEAT' GROUP BY 1"""))
    assert heating.get("2026-11", 0) > 3 * heating.get("2026-10", 0)
    places = await db.fetchval(
        """SELECT count(*) FROM (SELECT 1 FROM appeal WHERE location_address IS NOT NULL
           GROUP BY category_code, street_code, location_address HAVING count(*) >= 3) p""")
    assert places >= 5
    if await db.fetchval("SELECT to_regclass('appeal_return') IS NOT NULL"):  # filled by analytics.recurring
        assert await db.fetchval("SELECT count(*) FROM appeal_return") > 0


async def test_every_constraint_holds(db):
    """The load skipped the per-row foreign-key triggers: check every foreign key and check
    constraint of the filled tables by hand."""
    fks = await db.fetch(
        """SELECT c.conrelid::regclass::text AS tbl, a.attname AS col, c.confrelid::regclass::text AS ref,
                  af.attname AS refcol
           FROM pg_constraint c
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
           JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
           WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY($1::text[])""",
        list(FILLED),
    )
    assert len(fks) >= 8
    for fk in fks:
        orphans = await db.fetchval(
            f'SELECT count(*) FROM {fk["tbl"]} t WHERE t."{fk["col"]}" IS NOT NULL AND NOT EXISTS '
            f'(SELECT 1 FROM {fk["ref"]} r WHERE r."{fk["refcol"]}" = t."{fk["col"]}")'
        )
        assert orphans == 0, f"{fk['tbl']}.{fk['col']} → {fk['ref']}"
    checks = await db.fetch(
        """SELECT conrelid::regclass::text AS tbl, pg_get_expr(conbin, conrelid) AS expr FROM pg_constraint
           WHERE contype = 'c' AND conrelid::regclass::text = ANY($1::text[])""",
        list(FILLED),
    )
    for check in checks:
        assert await db.fetchval(f'SELECT count(*) FROM {check["tbl"]} WHERE NOT ({check["expr"]})') == 0


async def test_what_the_assessment_index_sees_is_what_its_predicate_says(db):
    predicate = "handling_unit_code IS NOT NULL AND outcome IN ('resolved', 'unresolved', 'not_evaluated')"
    by_scan = await db.fetchval(f"SELECT count(*) FROM appeal WHERE {predicate}")
    async with db.transaction():
        await db.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
        plan = "\n".join(r[0] for r in await db.fetch(
            f"EXPLAIN SELECT count(*) FROM appeal WHERE closed_at IS NOT NULL AND {predicate}"))
        by_index = await db.fetchval(f"SELECT count(*) FROM appeal WHERE closed_at IS NOT NULL AND {predicate}")
    assert "ix_appeal_assessment" in plan
    assert by_index == by_scan > N / 2
    # a closed appeal a unit held was contacted, in time or not; its exclusion follows its last review
    assert await db.fetchval(f"SELECT count(*) FROM appeal WHERE {predicate} AND contacted_in_time IS NULL") == 0
    assert await db.fetchval(
        """SELECT count(*) FROM appeal a WHERE a.excluded IS DISTINCT FROM coalesce(
             (SELECT x.excluded FROM assessment_exclusion x WHERE x.appeal_no = a.appeal_no ORDER BY x.at DESC LIMIT 1),
             false)"""
    ) == 0


COMPARED = ("status", "urgency", "handling_unit_code", "dispatched_at", "contact_deadline", "completion_deadline",
            "closed_at", "contacted_in_time", "overdue", "supervised", "rehandle_count", "resolved", "satisfaction",
            "outcome", "supervision_level", "master_no", "link_kind", "state", "seq")


async def test_rows_are_what_the_projection_writes(generated, db):
    """For appeals of every status and outcome (and some with parts): put the row back to what the
    intake wrote, project the final view and the timeline through the real activity, and get the
    same row, timeline and parts."""
    url = generated[0]
    sample = [r[0] for r in await db.fetch(
        """(SELECT DISTINCT ON (status, outcome) appeal_no FROM appeal ORDER BY status, outcome, appeal_no)
           UNION (SELECT appeal_no FROM appeal_part LIMIT 3)""")]
    engine: AsyncEngine = make_engine(settings_for(url))
    activities = AppealActivities(engine, settings_for(url))
    try:
        for no in sample:
            cols = ", ".join(COMPARED)
            row = await db.fetchrow(f"SELECT {cols} FROM appeal WHERE appeal_no = $1", no)
            events = await db.fetch(
                "SELECT seq, kind, actor, actor_role, unit_code, detail, occurred_at FROM appeal_event "
                "WHERE appeal_no = $1 ORDER BY seq", no)
            parts = await db.fetch("SELECT * FROM appeal_part WHERE appeal_no = $1 ORDER BY unit_code, kind", no)
            view = AppealView.model_validate_json(row["state"])
            assert view.model_dump_json() == AppealView.model_validate_json(view.model_dump_json()).model_dump_json()
            async with db.transaction():
                await db.execute("DELETE FROM appeal_event WHERE appeal_no = $1", no)
                await db.execute("DELETE FROM appeal_part WHERE appeal_no = $1", no)
                await db.execute(
                    "UPDATE appeal SET seq = 0, status = 'received', handling_unit_code = NULL, closed_at = NULL, "
                    "outcome = NULL, resolved = NULL, satisfaction = NULL, contacted_in_time = NULL, state = '{}' "
                    "WHERE appeal_no = $1", no)
            timeline = [
                TimelineEvent(seq=e["seq"], kind=e["kind"], at=e["occurred_at"], unit=e["unit_code"],
                              detail=json.loads(e["detail"]),
                              actor=None if e["actor"] is None else Actor(
                                  user=e["actor"], role=None if e["actor_role"] == "citizen" else Role(e["actor_role"])))
                for e in events
            ]
            assert await activities.project_appeal(ProjectionInput(view=view, events=timeline)) == len(events)
            again = await db.fetchrow(f"SELECT {cols} FROM appeal WHERE appeal_no = $1", no)
            assert {k: again[k] for k in COMPARED if k != "state"} == {k: row[k] for k in COMPARED if k != "state"}, no
            assert AppealView.model_validate_json(again["state"]) == view
            assert [tuple(e) for e in await db.fetch(
                "SELECT seq, kind, actor, actor_role, unit_code, detail, occurred_at FROM appeal_event "
                "WHERE appeal_no = $1 ORDER BY seq", no)] == [tuple(e) for e in events]
            skip = {"updated_at"}
            assert [{k: v for k, v in p.items() if k not in skip} for p in await db.fetch(
                "SELECT * FROM appeal_part WHERE appeal_no = $1 ORDER BY unit_code, kind", no)] == [
                {k: v for k, v in p.items() if k not in skip} for p in parts]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("jobs", [2])
async def test_the_same_seed_gives_the_same_data_whatever_the_workers(generated, pg_server, jobs):
    url = await _migrated(pg_server)
    await asyncio.to_thread(generate, url, N, seed=SEED, as_of=AS_OF, jobs=jobs, freeze=False, log=lambda *_: None)
    digests = []
    for u in (generated[0], url):
        conn = await asyncpg.connect(u)
        try:
            digests.append(await conn.fetchrow(
                """SELECT (SELECT md5(string_agg((to_jsonb(a) - 'updated_at')::text, '|' ORDER BY appeal_no)) FROM appeal a),
                          (SELECT md5(string_agg(concat_ws(',', appeal_no, seq, kind, actor, unit_code, detail::text,
                                                           occurred_at), '|' ORDER BY appeal_no, seq)) FROM appeal_event),
                          (SELECT md5(string_agg(t::text, '|' ORDER BY appeal_no, topic)) FROM appeal_topic t)"""))
        finally:
            await conn.close()
    assert digests[0] == digests[1]
