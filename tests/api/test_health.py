"""/healthz: 200 when both dependencies answer, 503 naming the one that does not."""

import uuid

import sqlalchemy as sa

from api.main import create_app
from db.session import make_engine
from devstack.ports import free_port
from infra.temporal import connect
from tests.api.conftest import serve
from tests.conftest import settings_for


async def test_healthy_when_postgresql_and_temporal_answer(api):
    r = await api.get("/healthz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    assert body["checks"]["postgresql"]["ok"] and body["checks"]["temporal"]["ok"]


async def test_503_names_postgresql_when_it_is_down(settings, dev_env):
    dead = settings_for(f"postgresql://postgres@127.0.0.1:{free_port()}/nothing")
    engine = make_engine(dead)
    try:
        async with serve(create_app(dead, engine=engine, temporal=dev_env.client)) as client:
            r = await client.get("/healthz")
    finally:
        await engine.dispose()
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert checks["postgresql"]["ok"] is False and checks["postgresql"]["error"]
    assert checks["temporal"]["ok"] is True


async def test_503_names_temporal_when_it_is_down(settings, engine):
    nowhere = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    client_to_nowhere = await connect(nowhere, lazy=True)
    async with serve(create_app(settings, engine=engine, temporal=client_to_nowhere)) as client:
        r = await client.get("/healthz")
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert checks["temporal"]["ok"] is False and checks["temporal"]["error"]
    assert checks["postgresql"]["ok"] is True


async def test_503_when_postgresql_answers_but_refuses_connections(settings, engine, dev_env, tokens):
    """Too many connections (or shutting down, starting up): the server answers, with a refusal.
    A request then gets the same 503 as when the server does not answer at all."""
    role = f"jiesu_full_{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0"))
    full = settings_for(engine.url.set(username=role).render_as_string(hide_password=False))
    full_engine = make_engine(full)
    try:
        async with serve(create_app(full, engine=full_engine, temporal=dev_env.client)) as client:
            listed = await client.get("/appeals", headers=tokens["op"])
            health = await client.get("/healthz")
    finally:
        await full_engine.dispose()
        async with engine.begin() as conn:
            await conn.execute(sa.text(f"DROP ROLE {role}"))
    assert listed.status_code == 503, listed.text
    assert listed.json()["error"]["code"] == "database_unavailable"
    assert health.status_code == 503 and health.json()["checks"]["postgresql"]["ok"] is False
