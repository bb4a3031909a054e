"""The stuck-case views: the manual's links are the ones `python -m infra.ui_views` makes, the
README names the recommended columns, and the dev server's visibility accepts every query."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from infra.ui_views import COLUMNS, VIEWS, links

ROOT = Path(__file__).resolve().parents[1]
#: the example time the manual's links are made for
EXAMPLE_NOW = datetime(2026, 12, 3, 2, tzinfo=UTC)


def test_the_manuals_links_are_the_views_as_of_its_example_time():
    manual = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    missing = [
        view.title
        for view, query, url in links("http://127.0.0.1:8233", "default", EXAMPLE_NOW)
        if f"| [{view.title}]({url}) | `{query}` |" not in manual
    ]
    assert missing == []


def test_the_readme_gives_the_column_set_and_the_views_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ", ".join(f"`{c}`" for c in COLUMNS) in readme
    assert "python -m infra.ui_views" in readme


def test_a_late_view_compares_with_the_time_it_is_made_for():
    late = links("http://ui:8080/", "jiesu", EXAMPLE_NOW)[1]
    assert late[1].endswith("ReplyDeadline < '2026-12-03T02:00:00Z'")
    assert late[2].startswith("http://ui:8080/namespaces/jiesu/workflows?query=WorkflowType%20%3D%20%27Appeal")


async def test_the_dev_servers_visibility_takes_every_query(dev_env):
    for view in VIEWS:
        await dev_env.client.count_workflows(view.at(EXAMPLE_NOW))  # raises on a query it refuses
