"""The lists staff reload all day read their indexes whatever plan PostgreSQL caches: the inbox
(open orders by the limit they work to now) reads `ix_appeal_open_due` in its order, and a unit's
lists find its appeals through `ix_appeal_units`, never by reading every appeal. The statements
are the API's own (`db.appeals.search`, captured as they are sent) and are planned as a prepared
statement's generic plan, which sees no parameter values: an index on an expression or with a
predicate is used there only if the statement spells them as the index does."""

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from db import appeals as store
from db.migrate import migrate
from db.session import make_engine, session_factory
from domain.calendar import CHINA_TZ
from tests.analytics.conftest import add_appeal, add_part
from tests.conftest import settings_for

LIGHTING = "BJ-LIGHTING"
STREET = "110101-ANDINGMEN"


async def _sent(engine, f: store.AppealFilter, sort: str) -> list[tuple[str, tuple]]:
    """The statements `search` sends, with their parameters."""
    sent: list[tuple[str, tuple]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, tuple(parameters or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with session_factory(engine)() as session:
            await store.search(session=session, f=f, limit=50, offset=0, sort=sort)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    return sent


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool | int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


async def _generic_plan(settings, statement: str, parameters: tuple, **planner: str) -> str:
    """The generic plan of `statement` (what a prepared statement settles on), with the planner
    settings given (e.g. enable_seqscan=off: whether an index can be used at all)."""
    conn = await asyncpg.connect(settings.asyncpg_dsn)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            for name, value in planner.items():
                await conn.execute(f"SET LOCAL {name} = {value}")
            await conn.execute(f"PREPARE listed AS {statement}")
            args = ", ".join(_literal(p) for p in parameters)
            rows = await conn.fetch(f"EXPLAIN (COSTS OFF) EXECUTE listed{f'({args})' if args else ''}")
            await conn.execute("DEALLOCATE listed")
        return "\n".join(r[0] for r in rows)
    finally:
        await conn.close()


def _page(sent: list[tuple[str, tuple]]) -> tuple[str, tuple]:
    return next((statement, parameters) for statement, parameters in sent if "ORDER BY" in statement)


def _count(sent: list[tuple[str, tuple]]) -> tuple[str, tuple]:
    return next((statement, parameters) for statement, parameters in sent if "count(*)" in statement)


@pytest.mark.parametrize("district", [None, "110105"])
async def test_the_inbox_reads_open_orders_in_the_order_of_their_limits(engine, settings, district):
    """Everyone's inbox, and a district supervisor's (the district filtered on the way)."""
    sent = await _sent(engine, store.AppealFilter(open=True, district=district), "due")
    plan = await _generic_plan(settings, *_page(sent), enable_seqscan="off", enable_sort="off", enable_bitmapscan="off")
    assert "ix_appeal_open_due" in plan and "Sort" not in plan, plan


async def test_a_units_list_counts_its_appeals_by_index(engine, settings):
    """The count under a unit's list of all its appeals (its pages read the newest first and stop
    at fifty; the count, with nothing to stop it early below the cap, read every appeal). Its
    inbox counts within the open orders (ix_appeal_open_due's predicate), a few thousand."""
    sent = await _sent(engine, store.AppealFilter(visible_to_unit=LIGHTING), "newest")
    plan = await _generic_plan(settings, *_count(sent), enable_seqscan="off")
    assert "ix_appeal_units" in plan and "ix_appeal_handling_unit_code" in plan, plan
    assert "Seq Scan on appeal " not in plan, plan


@pytest_asyncio.fixture(scope="module")
async def lists_engine(pg_server) -> AsyncIterator[AsyncEngine]:
    """A database of its own with four appeals: one the lighting centre handles, one it handled
    before it was re-dispatched, one where it is asked as a part, and one it never saw."""
    engine = make_engine(settings_for(await pg_server.create_database("jiesu_lists")))
    await migrate(engine)
    t = datetime(2026, 11, 23, 9, tzinfo=CHINA_TZ)
    async with engine.begin() as conn:
        for no, unit in (("L-NOW", LIGHTING), ("L-BEFORE", STREET), ("L-PART", STREET), ("L-NEVER", STREET)):
            await add_appeal(
                conn, no, unit=unit, category="MUNI.STREETLIGHT", district="110101", street=STREET, received_at=t
            )
        await conn.execute(sa.text(
            "UPDATE appeal SET state = jsonb_set(state, '{units}', CAST(:units AS jsonb)) WHERE appeal_no = 'L-BEFORE'"
        ), {"units": json.dumps([LIGHTING, STREET])})
        await add_part(conn, "L-PART", LIGHTING, requested_at=t, due=t + timedelta(days=3), kind="co_handling")
    yield engine
    await engine.dispose()


async def test_a_unit_sees_what_it_handles_handled_or_is_asked_to_help_with(lists_engine):
    async with session_factory(lists_engine)() as session:
        rows, total, exact = await store.search(
            session=session, f=store.AppealFilter(visible_to_unit=LIGHTING), limit=10, offset=0
        )
    assert sorted(r.appeal_no for r in rows) == ["L-BEFORE", "L-NOW", "L-PART"] and (total, exact) == (3, True)


async def test_lists_count_up_to_the_cap_and_say_when_there_are_more(lists_engine, monkeypatch):
    monkeypatch.setattr(store, "COUNT_CAP", 3)
    async with session_factory(lists_engine)() as session:
        rows, total, exact = await store.search(session=session, f=store.AppealFilter(), limit=1, offset=0)
        assert (len(rows), total, exact) == (1, 3, False)  # four appeals: "more than 3"
        _, total, exact = await store.search(
            session=session, f=store.AppealFilter(visible_to_unit=LIGHTING), limit=1, offset=0
        )
        assert (total, exact) == (3, True)  # exactly the cap: counted exactly
