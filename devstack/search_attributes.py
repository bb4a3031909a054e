"""Register the project's search attributes on TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE:
`python -m devstack.search_attributes` (idempotent; used by the compose stack too)."""

import asyncio
import gc
import sys
import traceback

from temporalio.runtime import Runtime, TelemetryConfig

from infra.temporal import connect, register_search_attributes
from settings import get_settings
from workflows.search_attributes import SEARCH_ATTRIBUTES


async def _main(runtime: Runtime) -> None:
    settings = get_settings()
    client = await connect(settings, runtime=runtime)
    added = await register_search_attributes(client, settings.temporal_namespace)
    for name, kind in SEARCH_ATTRIBUTES.items():
        print(f"{name:<14} {kind:<9} {'added' if name in added else 'already registered'}")


def main() -> int:
    """Register, then end the Temporal core runtime before the interpreter exits.

    The client's Rust core runtime runs its own threads. Left to the interpreter's exit (the
    SDK's default runtime lives in a module global), they were still running, and calling into
    Python, while the interpreter finalized: about one run in eight died after its work was done
    (`Fatal Python error: PyGILState_Release`, or a segfault). So the runtime is our own, and it
    and the client (they sit in reference cycles, hence the collection) are gone, and their
    threads joined, before this returns."""
    runtime = Runtime(telemetry=TelemetryConfig())
    try:
        asyncio.run(_main(runtime))
        code = 0
    except Exception:  # printed here, so no traceback keeps the client alive until exit
        traceback.print_exc()
        code = 1
    del runtime
    gc.collect()
    return code


if __name__ == "__main__":
    sys.exit(main())
