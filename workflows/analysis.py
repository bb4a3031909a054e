"""MonthlyAnalysisWorkflow: what the `monthly-analysis` Schedule starts at 02:00 Beijing time on
the 1st, for the month just closed.

1. `freeze_month` (the assessment's activity): the month's three rates are captured with the
   settings used, so its figures never move again;
2. `propose_themes`: the month's candidate themes for one problem a month (每月一题), kept as
   computed.

Both are idempotent, so a re-run (a manual trigger, a retry) gives the same month the same
figures. The proposal runs even if the freeze fails; the run then fails, naming what failed.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.governance import GovernanceActivities, ThemeProposalInput
    from domain import governance as rules
    from domain.governance import MonthlyAnalysisInput, MonthlyAnalysisResult

#: Heavy queries over a month: a few tries, spaced out, then the run fails for an administrator.
ANALYSIS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10), maximum_interval=timedelta(minutes=5), maximum_attempts=6
)


@workflow.defn
class MonthlyAnalysisWorkflow:
    @workflow.run
    async def run(self, inp: MonthlyAnalysisInput) -> MonthlyAnalysisResult:
        """Freeze the closed month's assessment, then propose its themes."""
        month = inp.month or rules.month_closed_before(workflow.now())
        try:
            rules.parse_month(month)
        except ValueError as e:  # fail the run at once, naming the month (not the task, forever)
            raise ApplicationError(str(e), type="BadMonth", non_retryable=True) from None
        frozen, error = None, None
        try:
            frozen = await workflow.execute_activity(
                "freeze_month",
                month,
                result_type=int,
                start_to_close_timeout=timedelta(minutes=30),
                retry_policy=ANALYSIS_RETRY,
                summary=f"freeze the three rates of {month}",
            )
        except ActivityError as e:
            error = str(e.cause.message if isinstance(e.cause, ApplicationError) else e.cause or e)
        candidates = await workflow.execute_activity_method(
            GovernanceActivities.propose_themes,
            ThemeProposalInput(month=month, limit=inp.candidates),
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=ANALYSIS_RETRY,
            summary=f"propose the themes of {month}",
        )
        if error is not None:
            raise ApplicationError(
                f"{month}: {candidates} themes proposed, but the freeze failed: {error}",
                type="FreezeFailed",
                non_retryable=True,
            )
        return MonthlyAnalysisResult(month=month, frozen_appeals=frozen, candidates=candidates)
