"""The API's read engine: lookups without a transaction around them, and no way to write."""

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from db.session import make_engine, make_read_engine, session_factory


async def test_the_read_engine_reads_and_refuses_every_write(settings, engine):
    reads = make_read_engine(settings, url=engine.url)
    try:
        async with session_factory(reads)() as session:
            assert await session.scalar(sa.text("SELECT count(*) FROM unit")) > 0
            assert await session.scalar(sa.text("SHOW transaction_read_only")) == "on"
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await (await session.connection()).execute(sa.text("UPDATE unit SET name_zh = name_zh"))
        # a session that commits its writes on it gets the same refusal, not a silent write
        async with session_factory(reads)() as session:
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await (await session.connection()).execute(sa.text("DELETE FROM unit WHERE code = 'no-such-unit'"))
                await session.commit()
        # each statement runs on its own: no transaction holds them together (in one, now() stands still)
        async with reads.connect() as conn:
            first = await conn.scalar(sa.text("SELECT now()"))
            assert await conn.scalar(sa.text("SELECT now()")) > first
    finally:
        await reads.dispose()


@pytest.mark.parametrize("make", [make_engine, make_read_engine])
async def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout(settings, engine, make):
    """A PostgreSQL restart, or a backend terminated by an administrator: the next use gets a
    fresh connection instead of an error."""
    pooled = make(settings, url=engine.url)
    try:
        async with pooled.connect() as conn:
            before = await conn.scalar(sa.text("SELECT pg_backend_pid()"))
        async with engine.connect() as admin:  # waits until that backend has gone
            assert await admin.scalar(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": before})
        await asyncio.sleep(0.2)  # the driver reads the server's goodbye
        async with pooled.connect() as conn:
            assert await conn.scalar(sa.text("SELECT pg_backend_pid()")) != before
        assert pooled.sync_engine.pool.checkedin() == 1  # the dead one was dropped, not kept
    finally:
        await pooled.dispose()
