"""`make dev` end to end: the launcher brings up PostgreSQL, Temporal (with UI), the worker and
the API; Ctrl-C stops everything; a second start keeps the data; a busy port is named."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from devstack.ports import PortBusy, ensure_free, free_port
from infra.temporal import venv_bin
from settings import PROJECT_ROOT
from workflows.converter import DATA_CONVERTER
from workflows.health import HealthCheckWorkflow
from workflows.search_attributes import SEARCH_ATTRIBUTES


def test_busy_port_names_the_port_and_the_setting():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(PortBusy) as e:
            ensure_free("127.0.0.1", port, "API_PORT")
    assert str(port) in str(e.value) and "API_PORT=" in str(e.value)


class Launcher:
    def __init__(self, data_dir: Path) -> None:
        self.ports = {k: free_port() for k in ("POSTGRES_PORT", "TEMPORAL_PORT", "TEMPORAL_UI_PORT", "API_PORT",
                                                 "METRICS_PORT", "TEMPORAL_METRICS_PORT", "API_TEMPORAL_METRICS_PORT")}
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
        self.env.update({k: str(v) for k, v in self.ports.items()})
        self.env.update(JIESU_DATA_DIR=str(data_dir), JIESU_ENV="dev", PYTHONUNBUFFERED="1")
        self.proc: subprocess.Popen | None = None
        self.output: list[str] = []

    def start(self, timeout: float = 150) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "devstack"], cwd=PROJECT_ROOT, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                raise AssertionError("launcher exited:\n" + "".join(self.output))
            self.output.append(line)
            if "Ctrl-C stops everything" in line:
                return
        raise AssertionError("launcher not up in time:\n" + "".join(self.output))

    def interrupt(self, timeout: float = 60) -> int:
        """What Ctrl-C in the terminal does: SIGINT to the foreground process group."""
        os.killpg(self.proc.pid, signal.SIGINT)
        out, _ = self.proc.communicate(timeout=timeout)
        self.output.append(out)
        return self.proc.returncode

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['API_PORT']}"

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.ports['POSTGRES_PORT']}/jiesu"

    @property
    def temporal(self) -> str:
        return f"127.0.0.1:{self.ports['TEMPORAL_PORT']}"


def _all_ports_free(launcher: Launcher) -> bool:
    for name, port in launcher.ports.items():
        try:
            ensure_free("127.0.0.1", port, name)
        except PortBusy:
            return False
    return True


def test_dev_stack_starts_stops_and_keeps_its_data(tmp_path):
    launcher = Launcher(tmp_path / "data")
    launcher.start()
    try:
        banner = "".join(launcher.output)
        assert f"{launcher.api}/docs" in banner and "Temporal UI" in banner
        assert f"{launcher.api}/metrics" in banner and f":{launcher.ports['METRICS_PORT']}/metrics" in banner
        assert "operator" in banner and "password" in banner  # demo credentials
        assert "schedules ensured (monthly-analysis created)" in banner  # the monthly analysis is scheduled

        assert httpx.get(f"{launcher.api}/healthz", timeout=10).status_code == 200
        ui = httpx.get(f"http://127.0.0.1:{launcher.ports['TEMPORAL_UI_PORT']}", timeout=10)
        assert ui.status_code == 200

        listed = subprocess.run(
            [venv_bin("temporal"), "operator", "search-attribute", "list", "--address", launcher.temporal],
            capture_output=True, text=True, check=True,
        ).stdout
        for name in SEARCH_ATTRIBUTES:
            assert name in listed

        marker = f"health-{uuid.uuid4().hex[:6]}"
        report = asyncio.run(_run_health_workflow(launcher.temporal, marker))
        assert report.ok  # the launched worker reached the launched PostgreSQL
        asyncio.run(_sql(launcher.database_url, "INSERT INTO calendar_day VALUES ('2031-01-01', 'holiday', '元旦')"))
    finally:
        code = launcher.interrupt()
    assert code == 0, "".join(launcher.output)
    assert "stopped" in launcher.output[-1]
    assert _all_ports_free(launcher), "something kept running after Ctrl-C"

    again = Launcher(tmp_path / "data")
    again.ports = launcher.ports
    again.env.update({k: str(v) for k, v in launcher.ports.items()})
    again.start()
    try:
        assert asyncio.run(_sql(again.database_url, "SELECT name FROM calendar_day WHERE day = '2031-01-01'")) == "元旦"
        assert asyncio.run(_workflow_status(again.temporal, marker)) == "COMPLETED"
        assert "schedules ensured (monthly-analysis updated)" in "".join(again.output)
    finally:
        assert again.interrupt() == 0


def test_a_busy_port_stops_the_launcher_with_a_clear_message(tmp_path):
    launcher = Launcher(tmp_path / "data")
    with socket.socket() as s:
        s.bind(("127.0.0.1", launcher.ports["API_PORT"]))
        s.listen()
        proc = subprocess.run(
            [sys.executable, "-m", "devstack"], cwd=PROJECT_ROOT, env=launcher.env,
            capture_output=True, text=True, timeout=60,
        )
    assert proc.returncode == 2
    assert f"port {launcher.ports['API_PORT']}" in proc.stderr and "API_PORT=" in proc.stderr


async def _run_health_workflow(address: str, workflow_id: str):
    from temporalio.client import Client

    client = await Client.connect(address, data_converter=DATA_CONVERTER)
    return await client.execute_workflow(HealthCheckWorkflow.run, id=workflow_id, task_queue="appeals")


async def _workflow_status(address: str, workflow_id: str) -> str:
    from temporalio.client import Client

    client = await Client.connect(address, data_converter=DATA_CONVERTER)
    return (await client.get_workflow_handle(workflow_id).describe()).status.name


async def _sql(url: str, sql: str):
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()
