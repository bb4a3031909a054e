"""A private dev stack whose pieces can be killed (SIGKILL) and started again one at a time.

It is the `make dev` launcher (`devstack.Stack`) on its own data folder and free ports; this
module only adds killing a piece's whole process group and bringing that one piece back.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import time
from pathlib import Path

from devstack.__main__ import Stack
from devstack.ports import free_port
from settings import Settings

#: What can be killed, in the order of the first round.
PIECES = ("worker", "temporal", "postgres", "api")

_PR_SET_CHILD_SUBREAPER = 36


class ChaosStack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        ports = {k: free_port() for k in ("POSTGRES_PORT", "TEMPORAL_PORT", "TEMPORAL_UI_PORT", "API_PORT")}
        settings = Settings(
            JIESU_ENV="dev",
            JIESU_DATA_DIR=str(self.data_dir),
            database_url=None,  # never the developer's servers, whatever the environment says
            temporal_address=None,
            postgres_port=ports["POSTGRES_PORT"],
            temporal_port=ports["TEMPORAL_PORT"],
            temporal_ui_port=ports["TEMPORAL_UI_PORT"],
            api_port=ports["API_PORT"],
        )
        self.stack = Stack(settings)
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
        env.update({k: str(v) for k, v in ports.items()})
        env.update(
            JIESU_DATA_DIR=str(self.data_dir),
            JIESU_ENV="dev",
            INTAKE_RATE_PER_MINUTE="1000000",  # one very fast operator does all the intakes
            PYTHONUNBUFFERED="1",
        )
        self.stack.env = env
        self.api_url = f"http://127.0.0.1:{ports['API_PORT']}"

    @property
    def database_url(self) -> str:
        return self.stack.env["DATABASE_URL"]

    @property
    def temporal_address(self) -> str:
        return self.stack.env["TEMPORAL_ADDRESS"]

    async def start(self) -> None:
        _subreaper(True)
        await self.stack.start()

    def stop(self) -> None:
        """Everything started here stops, whatever state the pieces are in."""
        leaders = [pid for pid in map(self._leader, PIECES) if pid is not None]
        try:
            self.stack.stop()
        finally:
            for pid in leaders:
                if _group_alive(pid):  # a stop that failed half-way: nothing may outlive the run
                    os.killpg(pid, signal.SIGKILL)
                    time.sleep(0.2)
                _reap_group(pid)
            _subreaper(False)  # orphans of whatever this process runs next go where they went before

    # --- faults --------------------------------------------------------------------------
    def kill(self, piece: str) -> int:
        """SIGKILL the piece's whole process group (a server's backends die with it); returns
        the group's id once nothing of it runs any more."""
        pid = self._leader(piece)
        if pid is None:
            raise RuntimeError(f"the {piece} is not running")
        if os.getpgid(pid) != pid or pid == os.getpgid(0):
            raise RuntimeError(f"the {piece} (pid {pid}) does not lead a process group of its own; not killing it")
        os.killpg(pid, signal.SIGKILL)
        proc = self._process(piece)
        if proc is not None:
            proc.wait(20)  # reaped by its Popen, which then knows it ended
        deadline = time.monotonic() + 20
        while _group_alive(pid):
            _reap_group(pid)
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {piece}'s processes (group {pid}) outlived SIGKILL for 20 s")
            time.sleep(0.05)
        _reap_group(pid)
        return pid

    async def restart(self, piece: str, timeout: float = 90) -> None:
        """Start the piece again and wait until it serves."""
        s = self.stack
        if piece == "postgres":
            await asyncio.to_thread(s.postgres.start)  # pg_ctl -w: returns once it accepts connections
        elif piece == "temporal":
            s.temporal.start()  # the same SQLite file: the histories are still there
            await s.temporal.wait_ready(timeout)
        elif piece == "worker":
            log = self.data_dir / "worker.log"
            offset = log.stat().st_size if log.exists() else 0
            proc = s.spawn("worker")
            await _wait_for_line(log, offset, "worker polling task queue", proc, timeout)
        elif piece == "api":
            s.spawn("api")
            await s.wait_healthy(timeout)
        else:
            raise ValueError(f"unknown piece {piece!r}; one of {', '.join(PIECES)}")

    def _process(self, piece: str):
        """The Popen of a piece started here directly (not PostgreSQL: pg_ctl forks it)."""
        s = self.stack
        if piece in ("worker", "api"):
            return dict(s.children).get(piece)
        if piece == "temporal":
            return None if s.temporal is None else s.temporal.process
        return None

    def _leader(self, piece: str) -> int | None:
        s = self.stack
        if piece in ("worker", "api", "temporal"):
            proc = self._process(piece)
            return None if proc is None else proc.pid
        if piece == "postgres":
            return None if s.postgres is None else s.postgres.postmaster_pid()
        raise ValueError(f"unknown piece {piece!r}")


def _subreaper(on: bool) -> None:
    """pg_ctl leaves the PostgreSQL server an orphan. Where PID 1 does not reap orphans (some
    containers), a killed server would stay a zombie whose PID still looks alive to the next
    start; as this process's orphan it is reaped here instead."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: its init reaps
        pass


def _group(pgid: int) -> list[tuple[int, str, int]]:
    """(pid, state, parent pid) of every process in the group, from /proc."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            found.append((int(entry.name), fields[0], int(fields[1])))
    return found


def _group_alive(pgid: int) -> bool:
    if not os.path.isdir("/proc"):
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
    return any(state != "Z" for _, state, _ in _group(pgid))


def _reap_group(pgid: int) -> None:
    """Collect this process's zombie children of that group (only those: other code may wait
    for its own children)."""
    if not os.path.isdir("/proc"):
        return
    me = os.getpid()
    for pid, state, parent in _group(pgid):
        if state == "Z" and parent == me:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


async def _wait_for_line(log: Path, offset: int, text: str, proc, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the process exited ({proc.returncode}); see {log}")
        with open(log, "rb") as f:
            f.seek(offset)
            if text.encode() in f.read():
                return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{text!r} not in {log} after {timeout:.0f}s")
