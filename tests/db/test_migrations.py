"""The first migration goes up, down and up again on a real PostgreSQL, and matches the models."""

import json

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import db.models  # noqa: F401
from db.migrate import run_alembic
from db.session import make_engine
from tests.conftest import settings_for


async def _tables(engine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def _enum_types(engine) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT typname FROM pg_type WHERE typtype = 'e'"))
        return {r[0] for r in rows}


async def test_upgrade_downgrade_upgrade(pg_server):
    engine = make_engine(settings_for(await pg_server.create_database("jiesu_mig")))
    try:
        await run_alembic(engine, "upgrade", "head")
        tables = await _tables(engine)
        assert {"appeal", "appeal_event", "citizen_contact", "unit", "routing_rule"} <= tables

        await run_alembic(engine, "downgrade", "base")
        assert await _tables(engine) == {"alembic_version"}
        assert await _enum_types(engine) == set()  # nothing left behind to trip the next upgrade

        await run_alembic(engine, "upgrade", "head")
        assert await _tables(engine) == tables
    finally:
        await engine.dispose()


#: indexes on an expression alembic cannot compare (PostgreSQL gives the CASE back in its own
#: words): checked by name here, and by use in tests/db/test_list_plans.py
EXPRESSION_INDEXES = {"ix_appeal_open_due"}


def _compared(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


async def test_models_and_migrations_agree(engine):
    """A model change without a migration (or the reverse) fails here, not in production."""
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c, opts={"include_object": _compared}), SQLModel.metadata)
        )
        indexes = {r[0] for r in await conn.execute(sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'appeal'"))}
    assert diff == []
    assert EXPRESSION_INDEXES <= indexes


async def test_constraint_names_follow_the_naming_convention(engine):
    async with engine.connect() as conn:
        names = {
            r[0]
            for r in await conn.execute(
                sa.text("SELECT conname FROM pg_constraint WHERE conrelid = 'appeal_event'::regclass")
            )
        }
    assert {"pk_appeal_event", "uq_appeal_event_idem_key", "fk_appeal_event_appeal_no_appeal"} <= names


async def test_parts_recorded_before_0014_get_their_report_in_limit_and_round(pg_server):
    """0014 reads each part's report-in limit, missed limits and round from the view its appeal
    projected last, so the inbox shows parts asked before it, too."""
    engine = make_engine(settings_for(await pg_server.create_database("jiesu_mig_0014")))
    part = {"report_in_due": "2026-12-02T10:00:00+08:00", "report_in_missed": True, "missed": False, "round": 2}
    try:
        await run_alembic(engine, "upgrade", "0012")
        async with engine.begin() as conn:
            for statement, params in (
                ("INSERT INTO unit (code, name_zh, name_en, kind, active) VALUES ('U', '单位', 'unit', 'district_department', true)", {}),
                ("INSERT INTO category (code, name_zh, name_en, pain_point, default_urgency) "
                 "VALUES ('C', '类', 'c', false, 'ordinary')", {}),
                ("INSERT INTO appeal (appeal_no, workflow_id, status, channel, appeal_type, category_code, urgency, "
                 "content, received_at, state, seq, overdue, supervised, rehandle_count, excluded) VALUES "
                 "('A', 'appeal-A', 'accepted', 'phone', 'complaint', 'C', 'ordinary', 'x', now(), "
                 "CAST(:state AS jsonb), 3, false, false, 0, false)",
                 {"state": json.dumps({"parts": {"whistle:U": part}})}),
                ("INSERT INTO appeal_part (appeal_no, unit_code, kind, workflow_id, task, status, requested_at, due, "
                 "overdue) VALUES ('A', 'U', 'whistle', 'w', 't', 'requested', now(), now(), true)", {}),
            ):
                await conn.execute(sa.text(statement), params)
        await run_alembic(engine, "upgrade", "0014")
        async with engine.connect() as conn:
            row = (await conn.execute(sa.text(
                "SELECT report_in_due, report_in_missed, missed, round FROM appeal_part"))).one()
        assert row.report_in_due.isoformat() == "2026-12-02T02:00:00+00:00"
        assert (row.report_in_missed, row.missed, row.round) == (True, False, 2)
    finally:
        await engine.dispose()
