"""Bring a database to the current schema and reference data: `python -m db.migrate`.

Used by the dev launcher, the one-shot `migrate` job of docker-compose, and the tests.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from db.reference_data import load_reference_data
from db.session import make_engine
from settings import PROJECT_ROOT


def alembic_config() -> Config:
    cfg = Config(str(Path(PROJECT_ROOT) / "alembic.ini"))
    cfg.set_main_option("script_location", str(Path(PROJECT_ROOT) / "migrations"))
    return cfg


async def run_alembic(engine: AsyncEngine, action: str, revision: str) -> None:
    """Run `alembic upgrade|downgrade <revision>` on the engine's database."""
    cfg = alembic_config()

    def _run(connection) -> None:
        cfg.attributes["connection"] = connection
        getattr(command, action)(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_run)


async def migrate(engine: AsyncEngine, *, seed: bool = True) -> dict[str, int] | None:
    """Schema to head, then (unless told not to) the reference data, as the callers need both."""
    await run_alembic(engine, "upgrade", "head")
    if seed:
        return await load_reference_data(engine)
    return None


async def _main(seed: bool) -> None:
    engine = make_engine()
    try:
        counts = await migrate(engine, seed=seed)
        print("schema at head" + (f"; reference data: {counts}" if counts else ""))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-seed", action="store_true", help="skip the reference data")
    args = parser.parse_args()
    asyncio.run(_main(seed=not args.no_seed))


if __name__ == "__main__":
    main()
