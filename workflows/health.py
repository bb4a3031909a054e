"""A short workflow that proves the whole chain works: client → Temporal → worker → PostgreSQL."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.health import DatabaseHealth, HealthActivities


@workflow.defn
class HealthCheckWorkflow:
    @workflow.run
    async def run(self) -> DatabaseHealth:
        return await workflow.execute_activity_method(
            HealthActivities.check_database,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=3),
            summary="check that the worker reaches PostgreSQL",
        )
