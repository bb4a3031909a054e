"""Engine and sessions. One engine per process, created from the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from settings import Settings, get_settings


def make_engine(settings: Settings | None = None, **kwargs) -> AsyncEngine:
    settings = settings or get_settings()
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("connect_args", {"timeout": 5, "command_timeout": 30})
    return create_async_engine(settings.sqlalchemy_url, **kwargs)


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
