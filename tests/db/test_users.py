"""The command that creates staff accounts."""

import os
import subprocess
import sys
import uuid

from db.users import verify_password
from settings import PROJECT_ROOT


def run(settings, *args, password="a-long-password-1"):
    env = dict(os.environ, DATABASE_URL=settings.database_url)
    return subprocess.run([sys.executable, "-m", "db.users", "create", *args], input=password + "\n",
                          capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=60)


async def test_create_user_then_log_in(settings, engine):
    import sqlalchemy as sa

    name = f"u{uuid.uuid4().hex[:8]}"
    done = run(settings, name, "--role", "unit_staff", "--unit", "BJ-LIGHTING")
    assert done.returncode == 0, done.stderr
    async with engine.connect() as conn:
        row = (await conn.execute(sa.text("SELECT role::text, unit_code, password_hash FROM app_user WHERE username = :u"),
                                  {"u": name})).one()
    assert row[:2] == ("unit_staff", "BJ-LIGHTING") and verify_password(row[2], "a-long-password-1")
    assert "exists" in run(settings, name, "--role", "operator").stderr


def test_refusals_say_why(settings):
    assert "--unit" in run(settings, "x1", "--role", "unit_staff").stderr
    assert "12 characters" in run(settings, "x2", "--role", "operator", password="short").stderr
    assert run(settings, "x3", "--role", "unit_staff", "--unit", "NOPE").returncode == 1
