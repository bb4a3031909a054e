"""`make bench-console` runs: over a few hundred generated appeals it finds every GET page of the
console in the app, logs each role in through the login form, fills the pages' parameters with
values from the data (the appeal at the top of the person's own list), loads them and prints the
table — and a page whose parameter nobody can fill is reported as skipped, with the reason."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

import pytest_asyncio
from fastapi import APIRouter, FastAPI, Query

from bench.console import measure, pages, trace
from bench.console.__main__ import bench, options
from bench.console.people import Person
from bench.generate import generate
from console import PAGES
from db.migrate import migrate
from db.session import make_engine
from tests.conftest import settings_for

N = 300


def _console_routes() -> set[str]:
    """Every GET page the console's modules declare (what the benchmark must find)."""
    found = set()
    for module in PAGES:
        for route in module.router.routes:
            path = getattr(route, "path", "")
            if "GET" in getattr(route, "methods", ()) and path not in pages.NOT_PAGES:
                found.add(path.rstrip("/") or pages.BASE)
    return found


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def run(pg_server):
    url = await pg_server.create_database("jiesu_bench_console")
    engine = make_engine(settings_for(url))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    # generated here without freezing the closed months (no console page needs them): the
    # benchmark finds the dataset and reuses it
    await asyncio.to_thread(generate, url, N, jobs=1, freeze=False, log=lambda *_: None)
    lines: list[str] = []
    out = await bench(url, options(["-n", str(N), "-r", "1"]), where="test", external=True, log=lines.append)
    return out, lines


async def test_finds_every_console_page_and_loads_them_as_the_roles_they_are_for(run):
    out, lines = run
    found = {p.template for p in out.pages}
    assert _console_routes() <= found, _console_routes() - found
    measured = {(r.page.label, r.person.label.split()[0]) for r in out.rows if len(r.times) == 1}
    assert ("/console/inbox", "unit_staff") in measured
    assert ("/console/appeals/{appeal_no}", "unit_staff") in measured
    assert ("/console/inbox ↻", "unit_staff") in measured  # the inbox reloads itself: its refresh too
    # staff pages ask the citizen to log in: not measured for them, and said so
    assert ("citizen", "asks to log in") in out.not_for["/console/inbox"]
    for row in out.rows:
        assert row.errors == {}, (row.page.label, row.person.label, row.errors)
        assert row.filled.path.startswith("/console") and "{" not in row.filled.path
    table = "\n".join(lines)
    assert "/console/inbox" in table and "p95 ms" in table and "page × role answer with p95 under their target" in table


async def test_the_appeal_page_opens_an_appeal_the_person_may_see(run):
    out, _ = run
    rows = [r for r in out.rows if r.page.template == "/console/appeals/{appeal_no}"]
    assert {r.person.role for r in rows} >= {"operator", "unit_staff", "supervisor", "analyst", "administrator"}
    for r in rows:
        assert r.status == 200 and r.filled.path == f"/console/appeals/{r.person.values['appeal_no']}"


async def test_a_page_whose_parameter_nobody_can_fill_is_skipped_with_the_reason():
    router = APIRouter(prefix=pages.BASE)

    @router.get("/queues/{queue}")
    async def queue(queue: Literal["held", "objections"]):
        return {}

    @router.get("/mystery/{riddle}")
    async def mystery(riddle: str):
        return {}

    @router.get("/citizen/{appeal_no}")
    async def citizen(appeal_no: str, t: Annotated[str | None, Query()] = None):
        return {}

    app = FastAPI()
    app.include_router(router)
    found = {p.label: p for p in pages.discover(app)}
    # a path parameter of a few values: a page each, the queues' tighter target
    assert {"/console/queues/held", "/console/queues/objections"} <= found.keys()
    assert found["/console/queues/held"].target_ms == pages.FAST_MS
    assert pages.fill(found["/console/queues/held"], lambda name: None).path == "/console/queues/held"
    skipped = pages.fill(found["/console/mystery/{riddle}"], {"appeal_no": "BJ-1"}.get)
    assert skipped.missing == "riddle"
    # the citizen's token is passed where a person has one, though the page does not require it
    link = pages.fill(found["/console/citizen/{appeal_no}"], {"appeal_no": "BJ-1", "t": "abc"}.get)
    assert (link.path, link.params) == ("/console/citizen/BJ-1", {"t": "abc"})
    nobody = [Person("operator", None), Person("citizen", None)]
    out = await measure.warm_up([found["/console/mystery/{riddle}"]], nobody, trace.Recorder(app), None)
    assert out.rows == [] and out.skipped == {"/console/mystery/{riddle}": "no value in the data for riddle"}


PAGE = """<html><header><a href="/console">jiesu</a><nav><a href="/console/queues" aria-current="page">队列</a>
<a href="/console/appeals">工单</a></nav></header><main>
<section hx-get="/console/queues?queue=held" hx-trigger="every 15s">
<nav class="tabs"><a href="/console/queues?queue=held" aria-current="page">待派</a>
<a href="/console/queues?queue=objections">异议</a><a href="/console/queues?queue=objections">异议</a></nav>
<a href="/console/queues?offset=50">下一页</a><a href="/console/export/rates.csv?period=2026-11">CSV</a>
<a href="/console/static/x.css">x</a></section></main></html>"""


def test_a_pages_tabs_refresh_menu_and_links_are_found_in_its_html():
    queues = pages.Page("/console/queues")
    filled = pages.fill(queues, lambda name: None)
    assert pages.menu(PAGE) == ["/console/queues", "/console/appeals"]
    assert pages.in_menu(queues, pages.menu(PAGE)) and not pages.in_menu(
        pages.Page("/console/inbox"), ["/console/queues"]
    )
    # the other tabs of the nav that marks the page shown, once each; not the pager's link
    assert [t.label for t in pages.tabs(PAGE, filled)] == ["/console/queues?queue=objections"]
    assert pages.refreshes(PAGE, filled) == pages.Page("/console/queues", refresh=True)
    assert pages.refreshes(PAGE, pages.fill(pages.Page("/console/inbox"), lambda name: None)) is None
    # a path parameter the data has no value for, from a link to the page
    export = pages.Page("/console/export/{what}.csv", (pages.Param("what"),))
    (made,) = pages.from_links(export, pages.console_links(PAGE))
    filled = pages.fill(made, lambda name: None)
    assert (filled.path, filled.params) == ("/console/export/rates.csv", {"period": "2026-11"})
