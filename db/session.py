"""Engines and sessions, created from the settings: one engine per process for writes (and
reads that belong with them), and the API's read-only engine beside it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import URL, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from settings import Settings, get_settings

#: asyncpg's: seconds to connect, and the longest a statement may run
CONNECT_ARGS = {"timeout": 5, "command_timeout": 30}


def make_engine(settings: Settings | None = None, *, url: URL | str | None = None, **kwargs) -> AsyncEngine:
    """An engine whose pool hands out only connections the driver still holds open: a
    connection that PostgreSQL closed (a restart, a terminated backend) is replaced at checkout
    without a round trip. (SQLAlchemy's `pool_pre_ping` asks the server instead: three round
    trips per checkout, BEGIN, a no-op and ROLLBACK, outside autocommit.) A connection that dies
    without telling (a network cut) fails its statement, which invalidates the pool."""
    settings = settings or get_settings()
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("connect_args", dict(CONNECT_ARGS))
    engine = create_async_engine(url or settings.sqlalchemy_url, **kwargs)
    event.listen(engine.sync_engine, "checkout", _still_open)
    return engine


def _still_open(dbapi_connection, connection_record, connection_proxy) -> None:
    if dbapi_connection.driver_connection.is_closed():  # asyncpg's own state, no round trip
        raise DisconnectionError("the server closed this pooled connection")


def make_read_engine(settings: Settings | None = None, *, url: URL | str | None = None, **kwargs) -> AsyncEngine:
    """An engine for reads only: each statement runs on its own (no BEGIN / ROLLBACK around a
    request's lookups), and PostgreSQL refuses any write on it (`default_transaction_read_only`),
    so code that writes through it fails at once instead of losing its transaction."""
    return make_engine(
        settings,
        url=url,
        isolation_level="AUTOCOMMIT",
        connect_args=CONNECT_ARGS | {"server_settings": {"default_transaction_read_only": "on"}},
        **kwargs,
    )


async def ping(engine: AsyncEngine) -> None:
    """Raises unless PostgreSQL answers on one of the engine's connections."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def session_scope(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error."""
    async with session_factory(engine)() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
