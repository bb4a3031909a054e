"""/healthz: 200 when both dependencies answer, 503 naming the one that does not."""

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
