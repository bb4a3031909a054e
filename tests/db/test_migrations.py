"""The first migration goes up, down and up again on a real PostgreSQL, and matches the models."""

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


async def test_models_and_migrations_agree(engine):
    """A model change without a migration (or the reverse) fails here, not in production."""
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), SQLModel.metadata)
        )
    assert diff == []


async def test_constraint_names_follow_the_naming_convention(engine):
    async with engine.connect() as conn:
        names = {
            r[0]
            for r in await conn.execute(
                sa.text("SELECT conname FROM pg_constraint WHERE conrelid = 'appeal_event'::regclass")
            )
        }
    assert {"pk_appeal_event", "uq_appeal_event_idem_key", "fk_appeal_event_appeal_no_appeal"} <= names
