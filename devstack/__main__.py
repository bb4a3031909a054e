"""Start the whole dev stack in one command: `python -m devstack` (what `make dev` runs).

PostgreSQL (embedded, unless DATABASE_URL is set) → Temporal dev server with its UI (unless
TEMPORAL_ADDRESS is set) → search attributes and the standing Schedules (the monthly analysis) →
migrations → reference data → demo users → worker → API. Data lives under JIESU_DATA_DIR
(default .data/) and survives restarts. Ctrl-C stops everything, in reverse order.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from db.migrate import migrate
from db.session import make_engine
from db.users import DEMO_PASSWORD, DEMO_USERS, ensure_users
from devstack.ports import PortBusy, ensure_free
from devstack.postgres import EmbeddedPostgres
from devstack.temporal import DevServer
from domain.types import Role
from infra.schedules import ensure_schedules
from infra.temporal import connect, register_search_attributes
from settings import PROJECT_ROOT, Environment, Settings, get_settings


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.postgres: EmbeddedPostgres | None = None
        self.temporal: DevServer | None = None
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.env = dict(os.environ)

    def say(self, message: str) -> None:
        print(f"[jiesu] {message}", flush=True)

    async def start(self) -> None:
        s = self.settings
        ensure_free(s.api_host, s.api_port, "API_PORT")
        self.data_dir.mkdir(parents=True, exist_ok=True)

        if s.database_url is None:
            self.postgres = EmbeddedPostgres(self.data_dir, s.postgres_port)
            self.say(f"starting PostgreSQL on 127.0.0.1:{s.postgres_port} (data in {self.postgres.pgdata})")
            self.postgres.start()
            await self.postgres.ensure_database("jiesu")
            self.env["DATABASE_URL"] = s.embedded_database_url
        else:
            self.say("using PostgreSQL from DATABASE_URL")

        if s.temporal_address is None:
            self.temporal = DevServer(
                self.data_dir, port=s.temporal_port, ui_port=s.temporal_ui_port, namespace=s.temporal_namespace
            )
            self.say(f"starting the Temporal dev server on {self.temporal.address} (UI {self.temporal.ui_url})")
            self.temporal.start()
            await self.temporal.wait_ready()
            self.env["TEMPORAL_ADDRESS"] = self.temporal.address
        else:
            self.say(f"using Temporal at {s.temporal_address}")

        # the children and this process read the same settings from now on
        settings = Settings(
            database_url=self.env.get("DATABASE_URL"), temporal_address=self.env.get("TEMPORAL_ADDRESS")
        )
        client = await connect(settings)
        added = await register_search_attributes(client, settings.temporal_namespace)
        self.say(f"search attributes registered ({', '.join(added) or 'all present already'})")
        done = await ensure_schedules(client, settings)
        self.say("schedules ensured (" + ", ".join(f"{sid} {what}" for sid, what in done.items()) + ")")

        engine = make_engine(settings)
        try:
            counts = await migrate(engine)
            self.say(f"schema at head; reference data written: {counts}")
            if settings.env is Environment.DEV:
                await ensure_users(engine, DEMO_USERS, DEMO_PASSWORD)
        finally:
            await engine.dispose()

        self.spawn("worker")
        self.spawn("api")
        await self.wait_healthy()
        self._banner()

    def _argv(self, name: str) -> list[str]:
        s = self.settings
        if name == "worker":
            return [sys.executable, str(PROJECT_ROOT / "worker.py")]
        if name == "api":
            return [
                sys.executable, "-m", "uvicorn", "api.main:app",
                "--host", s.api_host, "--port", str(s.api_port), "--log-level", "warning",
            ]
        raise ValueError(f"no child called {name!r}")

    def spawn(self, name: str) -> subprocess.Popen:
        """Start the worker or the API in its own process group (so that it, and all it starts,
        can be signalled as one); again after it exited, replacing the earlier entry."""
        log = open(self.data_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(
            self._argv(name), env=self.env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        names = [n for n, _ in self.children]
        if name in names:  # keep the order: stop() stops the children in reverse
            self.children[names.index(name)] = (name, proc)
        else:
            self.children.append((name, proc))
        return proc

    async def wait_healthy(self, timeout: float = 60) -> None:
        url = f"http://{self.settings.api_host}:{self.settings.api_port}/healthz"
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=5) as http:
            while time.monotonic() < deadline:
                self._check_children()
                try:
                    if (await http.get(url)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.3)
        raise TimeoutError(f"the API did not become healthy in {timeout:.0f}s; see {self.data_dir}/api.log")

    def _check_children(self) -> None:
        for name, proc in self.children:
            if proc.poll() is not None:
                raise RuntimeError(f"the {name} exited ({proc.returncode}); see {self.data_dir / (name + '.log')}")

    def _metrics_lines(self, api: str) -> list[str]:
        """Where Prometheus would scrape: the API's /metrics, the worker's, the Temporal SDK's."""
        s = self.settings
        lines = [f"  metrics       {api}/metrics (API: requests by route, open/overdue appeals, outbox)"]
        for port, what in ((s.metrics_port, "worker"), (s.temporal_metrics_port, "Temporal SDK, worker"),
                           (s.api_temporal_metrics_port, "Temporal SDK, API client")):
            if port is not None:
                lines.append(f"                http://{s.metrics_host}:{port}/metrics ({what})")
        return lines

    def _banner(self) -> None:
        s = self.settings
        api = f"http://{s.api_host}:{s.api_port}"
        lines = [
            "",
            "jiesu is up.",
            f"  console       {api}/console   (the staff workbench: log in as a demo user below)",
            f"  API docs      {api}/docs",
            f"  health        {api}/healthz",
            f"  Temporal UI   {self.temporal.ui_url if self.temporal else '(external: ' + str(s.temporal_address) + ')'}",
            "  stuck cases   python -m infra.ui_views (the UI's views of late and stuck appeals, as of now)",
            f"  PostgreSQL    {self.env['DATABASE_URL'].rsplit('@', 1)[-1]}",
            f"  logs          {self.data_dir}/*.log",
            *self._metrics_lines(api),
        ]
        if s.env is Environment.DEV:
            lines += ["", f"Demo users (password for all: {DEMO_PASSWORD}):"]
            lines += [
                f"  {u.username:<20} {u.role.value:<14} {(u.unit_code or u.district_code or ''):<16} {CONSOLE_SEES[u.role]}"
                for u in DEMO_USERS
            ]
        lines += ["", "Ctrl-C stops everything; the data stays for the next start.", ""]
        print("\n".join(lines), flush=True)

    async def wait(self) -> None:
        while True:
            self._check_children()
            await asyncio.sleep(0.5)

    def stop(self) -> None:
        for name, proc in reversed(self.children):
            if proc.poll() is None:
                self.say(f"stopping the {name}")
                proc.send_signal(signal.SIGTERM)
        for _, proc in self.children:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.temporal:
            self.say("stopping the Temporal dev server")
            self.temporal.stop()
        if self.postgres:
            self.say("stopping PostgreSQL")
            self.postgres.stop()
        self.say("stopped")


#: What each role finds in the console (the launcher's banner says it beside each demo user).
CONSOLE_SEES = {
    Role.OPERATOR: "new orders, held/objection/extension/return-visit queues, every appeal",
    Role.UNIT_STAFF: "its unit's inbox and parts inbox, the actions valid now",
    Role.SUPERVISOR: "overdue and escalated orders (a district supervisor: the district), supervise",
    Role.ANALYST: "rates, rankings, hot spots, recurring problems, themes",
    Role.ADMINISTRATOR: "users, reference data, stuck-case links into the Temporal UI",
}


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main() -> int:
    stack = Stack(get_settings())
    loop = asyncio.new_event_loop()
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops everything in order, like Ctrl-C
    try:
        loop.run_until_complete(stack.start())
        loop.run_until_complete(stack.wait())
        return 0
    except KeyboardInterrupt:
        print(flush=True)
        return 0
    except PortBusy as e:
        print(f"[jiesu] cannot start: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        print(f"[jiesu] failed: {e}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        loop.close()


if __name__ == "__main__":
    sys.exit(main())
