"""The command that registers Open311 channels: a key printed once, kept only as its hash,
revocable."""

import os
import subprocess
import sys
import uuid

import sqlalchemy as sa

from db.channels import channel_for_key, key_hash
from settings import PROJECT_ROOT


def run(settings, *args):
    env = dict(os.environ, DATABASE_URL=settings.database_url)
    return subprocess.run([sys.executable, "-m", "db.channels", *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=env, timeout=60)


async def test_create_list_revoke(settings, engine):
    name = f"wechat-{uuid.uuid4().hex[:6]}"
    done = run(settings, "create", name, "--trusted", "--kind", "wechat")
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().rsplit(" ", 1)[-1]
    assert len(key) >= 40
    async with engine.connect() as conn:
        stored = (await conn.execute(sa.text("SELECT key_hash, kind, trusted FROM channel WHERE name = :n"),
                                     {"n": name})).one()
    assert stored == (key_hash(key), "wechat", True) and key not in stored.key_hash
    known = await channel_for_key(engine, key)
    assert known is not None and known.name == name and known.trusted
    assert "exists" in run(settings, "create", name).stderr
    listed = run(settings, "list").stdout
    assert f"{name}\twechat\ttrusted\tlive" in listed and key not in listed
    assert run(settings, "revoke", name).returncode == 0
    assert await channel_for_key(engine, key) is None
    assert "revoked" in run(settings, "list").stdout.split(name, 1)[1].splitlines()[0]
    assert run(settings, "revoke", name).returncode == 1  # revoked already


def test_refusals_say_why(settings):
    assert "lowercase" in run(settings, "create", "Bad Name").stderr
    assert run(settings, "create", "x-kind", "--kind", "phone").returncode == 2  # argparse: not a channel kind
