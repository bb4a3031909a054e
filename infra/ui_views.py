"""The stuck-case views of the Temporal UI: each a visibility query over the project's search
attributes, and a link that opens the UI's workflow list filtered by it.

A visibility query cannot name the current time, so a view of what is late *now* is made for a
moment: `python -m infra.ui_views` prints every view's link as of now, for the dev stack's UI or
another (`--ui http://127.0.0.1:8080` on the compose stack). docs/operations.md shows them made
for an example time."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from domain.display import beijing
from settings import get_settings

RUNNING_APPEALS = "WorkflowType = 'AppealWorkflow' AND ExecutionStatus = 'Running'"

#: The columns to show in the UI's workflow list (its "Configure columns"): what each order is
#: (with the summary and the workflow id), with whom, where, how late, since when it has not moved.
COLUMNS = ("AppealStatus", "HandlingUnit", "District", "ReplyDeadline", "Overdue", "InStatusSince")


@dataclass(frozen=True)
class View:
    title: str
    #: may name {now} and {day_ago}: UTC times, as the query compares them
    query: str

    def at(self, now: datetime) -> str:
        """The query as of `now`."""
        return self.query.format(now=_utc(now), day_ago=_utc(now - timedelta(days=1)))


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


VIEWS = (
    View("every open order", f"{RUNNING_APPEALS} AND AppealStatus != 'answered'"),
    View("late now: past the earliest limit not yet met", f"{RUNNING_APPEALS} AND ReplyDeadline < '{{now}}'"),
    View("flagged overdue (a limit missed, escalated to supervision)", f"{RUNNING_APPEALS} AND Overdue = true"),
    View(
        "dispatched and not accepted for a day",
        f"{RUNNING_APPEALS} AND AppealStatus = 'dispatched' AND InStatusSince < '{{day_ago}}'",
    ),
    View("objections waiting for the hotline", f"{RUNNING_APPEALS} AND AppealStatus = 'objection_raised'"),
    View(
        "held for an operator (no routing rule, or recorded with `hold`)",
        f"{RUNNING_APPEALS} AND AppealStatus = 'received'",
    ),
    View(
        "late parts (co-handling units, summoned departments)",
        "WorkflowType = 'CoHandlingWorkflow' AND ExecutionStatus = 'Running' AND ReplyDeadline < '{now}'",
    ),
    View(
        "everything late in one district, appeals and their parts",
        "ExecutionStatus = 'Running' AND District = '110101' AND ReplyDeadline < '{now}'",
    ),
    View("workflows failing on a bug (task failures)", "TemporalReportedProblems IN ('category=WorkflowTaskFailed')"),
    View("appeals (and governance tasks) whose record PostgreSQL refused", "ProjectionFailed = true"),
)


def link(ui: str, namespace: str, query: str) -> str:
    """The address that opens the UI's workflow list filtered by `query`."""
    return f"{ui.rstrip('/')}/namespaces/{quote(namespace, safe='')}/workflows?query={quote(query, safe='')}"


def links(ui: str, namespace: str, now: datetime) -> list[tuple[View, str, str]]:
    """Every view with its query and link as of `now`."""
    return [(view, view.at(now), link(ui, namespace, view.at(now))) for view in VIEWS]


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--ui", default=f"http://127.0.0.1:{settings.temporal_ui_port}", help="the Temporal UI's address"
    )
    parser.add_argument("--namespace", default=settings.temporal_namespace)
    args = parser.parse_args()
    now = datetime.now(UTC)
    print(f"Stuck cases in the Temporal UI as of {beijing(now)}; show the columns {', '.join(COLUMNS)}")
    for view, _, url in links(args.ui, args.namespace, now):
        print(f"\n{view.title}\n  {url}")


if __name__ == "__main__":
    main()
