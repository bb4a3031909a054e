"""Load the reference data (seed/data/*.yaml and the time-limit policy from settings) into
PostgreSQL: `python -m seed.load` (`python -m db.migrate` migrates and then does the same).

Reading the files and writing the tables is the data layer's: db/reference_data.py.
"""

from __future__ import annotations

import asyncio

from db.reference_data import (  # noqa: F401 (the loader's names, as they were known here)
    DATA_DIR,
    load_reference_data,
    parents_first,
    policy_rows,
    read,
    routing_rows,
    upsert,
)
from db.session import make_engine


async def _main() -> None:
    engine = make_engine()
    try:
        print(await load_reference_data(engine))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(_main())
