"""The stuck-case links of the administrator's page: the queries are docs/operations.md's (so
the page and the runbook cannot drift apart), and each link opens the Temporal UI's workflow
list filtered by its query, the current time put in where the query compares with it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from console.pages.admin_system import STUCK_CASES, stuck_case_links, workflows_link

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def clauses(query: str) -> list[str]:
    return [c.strip() for c in query.split(" AND ")]


@pytest.mark.parametrize(("key", "query"), STUCK_CASES, ids=[key for key, _ in STUCK_CASES])
def test_every_query_is_the_runbooks(key, query):
    runbook = OPERATIONS.read_text(encoding="utf-8")
    section = runbook[runbook.index("## Finding stuck cases") :]
    for clause in clauses(query):
        # a time put in at run time stands for the runbook's example time or its '…'
        pattern = (
            re.escape(clause).replace(re.escape("'{now}'"), "'[^']+'").replace(re.escape("'{day_ago}'"), "'[^']+'")
        )
        assert re.search(pattern, section), f"{key}: {clause!r} is not in docs/operations.md's stuck-case queries"


def test_links_open_the_ui_filtered_with_the_time_put_in():
    now = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
    links = stuck_case_links("http://ui.example:8233", "jiesu prod", now)
    assert [link["key"] for link in links] == [key for key, _ in STUCK_CASES]
    late = next(link for link in links if link["key"] == "tq.past_deadline")
    parts = urlsplit(late["href"])
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "ui.example:8233", "/namespaces/jiesu%20prod/workflows")
    assert parse_qs(parts.query)["query"] == [
        "WorkflowType = 'AppealWorkflow' AND ExecutionStatus = 'Running' AND ReplyDeadline < '2026-12-03T10:30:00Z'"
    ]
    old = next(link for link in links if link["key"] == "tq.not_accepted_old")
    assert "InStatusSince < '2026-12-02T10:30:00Z'" in old["query"]
    assert all("{" not in link["query"] for link in links)
    # quotes, spaces and '=' are encoded: the query survives the address whole
    href = workflows_link("http://ui", "default", "HandlingUnit = 'BJ-LIGHTING' AND ExecutionStatus = 'Running'")
    assert " " not in href and "'" not in href
    assert parse_qs(urlsplit(href).query)["query"] == ["HandlingUnit = 'BJ-LIGHTING' AND ExecutionStatus = 'Running'"]
