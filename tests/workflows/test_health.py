"""The worker's health check: workflow → activity → PostgreSQL, on the time-skipping server."""

import pytest
import sqlalchemy as sa
from temporalio.testing import ActivityEnvironment

from activities.health import HealthActivities
from db.session import make_engine
from devstack.ports import free_port
from tests.conftest import settings_for
from worker import build_worker
from workflows.health import HealthCheckWorkflow


async def test_health_workflow_reports_the_database_and_its_schema(ts_env, engine, task_queue):
    async with build_worker(ts_env.client, engine, task_queue=task_queue):
        report = await ts_env.client.execute_workflow(
            HealthCheckWorkflow.run, id=f"health-{task_queue}", task_queue=task_queue
        )
    async with engine.connect() as conn:
        head = await conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert report.ok and report.schema_revision == head
    assert report.server_version[:2].isdigit()


async def test_health_activity_fails_when_postgresql_is_unreachable():
    engine = make_engine(settings_for(f"postgresql://postgres@127.0.0.1:{free_port()}/x"))
    try:
        with pytest.raises(OSError):  # the worker retries it; /healthz reports it
            await ActivityEnvironment().run(HealthActivities(engine).check_database)
    finally:
        await engine.dispose()
