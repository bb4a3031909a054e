"""Register the project's search attributes on TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE:
`python -m devstack.search_attributes` (idempotent; used by the compose stack too)."""

import asyncio

from infra.temporal import connect, register_search_attributes
from settings import get_settings
from workflows.search_attributes import SEARCH_ATTRIBUTES


async def _main() -> None:
    settings = get_settings()
    client = await connect(settings)
    added = await register_search_attributes(client, settings.temporal_namespace)
    for name, kind in SEARCH_ATTRIBUTES.items():
        print(f"{name:<14} {kind:<9} {'added' if name in added else 'already registered'}")


if __name__ == "__main__":
    asyncio.run(_main())
