"""The API's read engine: lookups without a transaction around them, and no way to write."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from db.session import make_read_engine, session_factory


async def test_the_read_engine_reads_and_refuses_every_write(settings, engine):
    reads = make_read_engine(settings, url=engine.url)
    try:
        async with session_factory(reads)() as session:
            assert await session.scalar(sa.text("SELECT count(*) FROM unit")) > 0
            assert await session.scalar(sa.text("SHOW transaction_read_only")) == "on"
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await session.execute(sa.text("UPDATE unit SET name_zh = name_zh"))
        # a session that commits its writes on it gets the same refusal, not a silent write
        async with session_factory(reads)() as session:
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await session.execute(sa.text("DELETE FROM unit WHERE code = 'no-such-unit'"))
                await session.commit()
        # each statement runs on its own: no transaction holds them together (in one, now() stands still)
        async with reads.connect() as conn:
            first = await conn.scalar(sa.text("SELECT now()"))
            assert await conn.scalar(sa.text("SELECT now()")) > first
    finally:
        await reads.dispose()
