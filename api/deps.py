"""Dependencies shared by the routes (`Annotated` aliases, as the routes read them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.limits import RateLimits
from api.open311.catalogue import NamesCache
from db.pii import Sealer
from db.reference import DirectoryCache
from db.session import session_factory
from settings import Settings


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """Reads: each statement on its own, on the read-only engine (a write raises)."""
    async with session_factory(request.app.state.reads)() as session:
        yield session


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction for a route that writes; the route commits it."""
    async with session_factory(request.app.state.engine)() as session:
        yield session


async def _reads(request: Request) -> async_sessionmaker[AsyncSession]:
    """Short reads on the read-only engine, each in an `async with` block: the connection goes
    back to the pool when the block ends (before a route waits on a workflow; the pool is small)."""
    return session_factory(request.app.state.reads)


# Plain lookups, declared async: FastAPI runs a sync dependency in its thread pool, a hop per
# request each (three per staff action) for nothing.
async def _temporal(request: Request) -> Client:
    return request.app.state.temporal


async def _directory(request: Request) -> DirectoryCache:
    return request.app.state.directory


async def _engine(request: Request) -> AsyncEngine:
    return request.app.state.engine


async def _read_engine(request: Request) -> AsyncEngine:
    return request.app.state.reads


async def _limits(request: Request) -> RateLimits:
    return request.app.state.limits


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _sealer(request: Request) -> Sealer:
    return request.app.state.sealer


async def _open311_names(request: Request) -> NamesCache:
    """The names Open311's catalogue shows, one cache per app, made on first use (the engine
    exists once the app has started)."""
    state = request.app.state
    if getattr(state, "open311_names", None) is None:
        state.open311_names = NamesCache(state.engine)
    return state.open311_names


SessionDep = Annotated[AsyncSession, Depends(_session)]
WriteSessionDep = Annotated[AsyncSession, Depends(_write_session)]
TemporalDep = Annotated[Client, Depends(_temporal)]
SettingsDep = Annotated[Settings, Depends(_settings)]
DirectoryDep = Annotated[DirectoryCache, Depends(_directory)]
SealerDep = Annotated[Sealer, Depends(_sealer)]
ReadsDep = Annotated[async_sessionmaker[AsyncSession], Depends(_reads)]
EngineDep = Annotated[AsyncEngine, Depends(_engine)]
ReadEngineDep = Annotated[AsyncEngine, Depends(_read_engine)]
LimitsDep = Annotated[RateLimits, Depends(_limits)]
Open311NamesDep = Annotated[NamesCache, Depends(_open311_names)]
