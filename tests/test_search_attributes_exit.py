"""`python -m devstack.search_attributes` exits cleanly every time. It used to die at
interpreter exit about one run in eight (`Fatal Python error: PyGILState_Release`, or a
segfault) after its work was done: the Temporal core runtime's threads were still running while
the interpreter finalized."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
RUNS, AT_ONCE = 16, 4


def _env(dev_env) -> dict[str, str]:
    return os.environ | {
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": dev_env.client.namespace,
        "JIESU_ENV": "dev",
        "PYTHONPATH": str(PROJECT),
    }


async def _run(*args: str, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=PROJECT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode(errors="replace")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts threads through /proc")
async def test_no_temporal_core_thread_outlives_the_registration(dev_env):
    """The cause, seen every time: once it has registered, nothing of the Rust core runtime is
    left running (before: three of its threads, still there when the interpreter finalized)."""
    code, out = await _run(
        "-c",
        "import os, runpy\n"
        "try:\n"
        "    runpy.run_module('devstack.search_attributes', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print('threads', len(os.listdir('/proc/self/task')))\n",
        env=_env(dev_env),
    )
    assert code == 0, out
    assert out.splitlines()[-1] == "threads 1", out


async def test_registration_exits_cleanly_every_time(dev_env):
    env = _env(dev_env)
    gate = asyncio.Semaphore(AT_ONCE)
    began = time.monotonic()

    async def once() -> tuple[int, str]:
        async with gate:
            return await _run("-m", "devstack.search_attributes", env=env)

    results = await asyncio.gather(*(once() for _ in range(RUNS)))
    failures = [(code, out) for code, out in results if code != 0]
    assert not failures, failures[0]
    assert all("AppealStatus" in out for _, out in results)
    assert time.monotonic() - began < 60
