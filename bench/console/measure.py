"""The measuring: each page for each person once to see what it answers (and whether it
refreshes itself), then R rounds in which every measured page × person is loaded once, one
request at a time, so the machine's noise falls on all of them alike. Then the table."""

from __future__ import annotations

import asyncio
import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.console import trace
from bench.console.pages import BASE, Filled, Page, console_links, fill, from_links, in_menu, refreshes, tabs
from bench.console.people import Person, value_of


@dataclass
class Row:
    """One page as one person, measured."""

    filled: Filled
    person: Person
    times: list[float] = field(default_factory=list)  # server ms per load
    traces: list[trace.Trace] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    status: int = 0  # what the warm-up answered

    @property
    def page(self) -> Page:
        return self.filled.page

    def p(self, q: float) -> float:
        return percentile(self.times, q)

    @property
    def cpu(self) -> float:
        """The median CPU of a load: the app's, and PostgreSQL's where it is measured."""
        return (
            statistics.median([t.cpu_ms + (t.pg_cpu_ms or 0.0) for t in self.traces]) if self.traces else float("nan")
        )

    @property
    def ok(self) -> bool:
        return bool(self.times) and not self.errors and self.p(95) < self.page.target_ms


@dataclass
class Outcome:
    rows: list[Row] = field(default_factory=list)
    #: a page not measured for a person, and why (403, a login page, the citizen's link …)
    not_for: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: a page measured for nobody, and why
    skipped: dict[str, str] = field(default_factory=dict)
    pages: list[Page] = field(default_factory=list)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


async def load(row: Row, recorder: trace.Recorder, server: trace.ServerCpu) -> trace.Trace | None:
    """Load the page once; its trace (the server's time), or None if the server saw nothing."""
    http = row.person.http
    assert http is not None
    recorder.last = None
    before = server.ns()
    response = await http.get(row.filled.path, params=row.filled.params, headers=row.filled.headers)
    await response.aread()
    for _ in range(2000):  # the answer may arrive before the server has finished (a file closed after it)
        if recorder.last is not None:
            break
        await asyncio.sleep(0.001)
    after = server.ns()
    t = recorder.last
    if t is not None and before is not None and after is not None:
        t.pg_cpu_ms = (after - before) / 1e6
    return t


def _why_not(status: int, headers: Mapping[str, str]) -> str | None:
    """Why a warm-up answer means "not this person's page" (None: it is theirs)."""
    to = headers.get("location", "") if status in (301, 302, 303, 307) else headers.get("hx-redirect", "")
    if to.startswith(f"{BASE}/login"):
        return "asks to log in"
    if status in (401, 403, 404):
        return str(status)
    return None


async def warm_up(pages: list[Page], persons: list[Person], recorder: trace.Recorder, only: str | None) -> Outcome:
    """Load each page once as each person (a variant: as those whose menu has it) to see what it
    answers; measured from then on are the pages a person may load. A page's tabs and refresh
    are found in its HTML, and a path parameter the data has no value for is taken from a link
    to that page on the pages loaded (the analyst's CSV links name what they export)."""
    out = Outcome(pages=list(pages))
    queue = [p for p in pages if only is None or only in p.label]
    links: list[str] = []
    unfilled: list[Page] = []
    for second in (False, True):
        if second:  # the pages whose parameter no person could fill: from the links seen
            queue = [p for page in unfilled for p in from_links(page, links)]
            for page, found in ((page, [p for p in queue if p.template == page.template]) for page in unfilled):
                if found:
                    del out.skipped[page.label]
                    at = out.pages.index(page)
                    out.pages[at : at + 1] = found
        while queue:
            page = queue.pop(0)
            if await _warm_up(page, persons, out, queue, links) and not second:
                unfilled.append(page)
    return out


async def _warm_up(page: Page, persons: list[Person], out: Outcome, queue: list[Page], links: list[str]) -> bool:
    """One page for each person; True if no person had a value for one of its parameters."""
    missing: dict[str, str] = {}
    owners = [p for p in persons if in_menu(page, p.menu)]
    loaders = owners if page.variant and owners else persons
    for person in loaders:
        filled = fill(page, lambda name, person=person: value_of(person, name))
        if filled.missing:
            missing[person.label] = filled.missing
            continue
        row = Row(filled, person)
        assert person.http is not None
        response = await person.http.get(filled.path, params=filled.params, headers=filled.headers)
        row.status = response.status_code
        why = _why_not(response.status_code, response.headers)
        if why is not None:
            out.not_for.setdefault(page.label, []).append((person.label, why))
            continue
        if response.status_code >= 400:
            row.errors[f"{response.status_code} at warm-up: {_gist(response.text)}"] = 1
        out.rows.append(row)
        if response.headers.get("content-type", "").startswith("text/html"):
            links.extend(console_links(response.text))
            if page.refresh:
                continue
            found = [] if page.variant else tabs(response.text, filled)
            again = refreshes(response.text, filled)
            at = out.pages.index(page) + 1
            for more in [*found, *([again] if again is not None else [])]:
                if more not in queue and more not in out.pages:
                    out.pages.insert(at, more)  # shown after the page they belong to
                    queue.insert(0, more)
                    at += 1
    if missing and len(missing) == len(loaders):
        out.skipped[page.label] = f"no value in the data for {', '.join(sorted(set(missing.values())))}"
        return True
    for label, name in missing.items():
        out.not_for.setdefault(page.label, []).append((label, f"no {name}"))
    if not any(r.page == page for r in out.rows) and page.label not in out.skipped:
        whys = ", ".join(f"{who} {why}" for who, why in out.not_for.get(page.label, []))
        out.skipped[page.label] = f"no person may load it ({whys})"
    return False


def loads_of(page: Page, repeat: int) -> int:
    """How many times a page is loaded: R, a download (the CSV of a list) a fifth of that, at
    least 3 — it takes seconds where a page takes milliseconds, and is not what staff reload."""
    return max(3, math.ceil(repeat / 5)) if page.download else repeat


async def rounds(out: Outcome, recorder: trace.Recorder, server: trace.ServerCpu, repeat: int, progress=None) -> None:
    measured = [r for r in out.rows if not r.errors]
    for i in range(repeat):
        server.refresh()
        for row in measured:
            if i >= loads_of(row.page, repeat):
                continue
            t = await load(row, recorder, server)
            if t is None:
                row.errors["the server recorded nothing"] = row.errors.get("the server recorded nothing", 0) + 1
                continue
            if t.status >= 400 or t.status != row.status:
                key = f"{t.status} (warm-up said {row.status})"
                row.errors[key] = row.errors.get(key, 0) + 1
                continue
            row.times.append(t.ms)
            row.traces.append(t)
        if progress is not None:
            progress(i + 1, repeat)


def _gist(text: str) -> str:
    return " ".join(text.split())[:160]


# --- the report ---------------------------------------------------------------------------------


def table(out: Outcome) -> list[str]:
    pw = max([len(r.page.label) for r in out.rows] + [24]) + 2
    rw = max([len(r.person.label) for r in out.rows] + [12]) + 2
    lines = [f"  {'page':<{pw}}{'role':<{rw}}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'cpu ms':>8}{'target':>8}"]
    order = {p.label: i for i, p in enumerate(out.pages)}
    for r in sorted(out.rows, key=lambda r: (order.get(r.page.label, 999), r.page.label)):
        if not r.times:
            lines.append(
                f"  {r.page.label:<{pw}}{r.person.label:<{rw}}{0:>4}{'—':>9}{'—':>9}{'—':>9}{'—':>8}"
                f"{r.page.target_ms:>8.0f}  ERROR"
            )
            continue
        verdict = "OK" if r.ok else "MISS" if not r.errors else "ERROR"
        lines.append(
            f"  {r.page.label:<{pw}}{r.person.label:<{rw}}{len(r.times):>4}{r.p(50):>9.1f}{r.p(95):>9.1f}"
            f"{max(r.times):>9.1f}{r.cpu:>8.1f}{r.page.target_ms:>8.0f}  {verdict}"
        )
    return lines


def summary(out: Outcome) -> list[str]:
    measured = [r for r in out.rows if r.times]
    ok = [r for r in measured if r.ok]
    over: dict[str, int] = {}
    for r in out.rows:
        if not r.ok:
            over[r.page.label] = over.get(r.page.label, 0) + 1
    cheap = [r for r in measured if r.cpu < r.page.target_ms]
    pages = {r.page.label for r in measured}
    lines = [
        f"  {len(ok)} of {len(out.rows)} page × role answer with p95 under their target "
        f"({len(pages)} pages measured, {len(out.skipped)} skipped)"
        + (f"; over: {', '.join(f'{label} ({n})' for label, n in over.items())}" if over else ""),
        f"  {len(cheap)} of {len(measured)} spend less CPU than their target on a load (median, the app and "
        "PostgreSQL): the rest of their time is waiting for a core",
    ]
    for label, reason in out.skipped.items():
        lines.append(f"  skipped {label}: {reason}")
    for label, whys in out.not_for.items():
        if label not in out.skipped:
            lines.append(f"  not measured {label} as: " + ", ".join(f"{who} ({why})" for who, why in whys))
    for r in out.rows:
        for error, count in r.errors.items():
            lines.append(f"  {r.page.label} as {r.person.label}: {count} × {error}")
    return lines


def where_the_time_goes(row: Row, top: int = 3) -> list[str]:
    calls, statements, outside = trace.breakdown(row.traces)
    lines = [
        f"  {row.page.label} as {row.person.label} (p50 {row.p(50):.1f} ms, p95 {row.p(95):.1f} ms), median per load:"
    ]
    for c in calls:
        times = f" ×{c.per_page:.0f}" if c.per_page >= 1.5 else ""
        lines.append(f"    {c.ms:8.1f} ms  API {c.name}{times}")
    lines.append(f"    {outside:8.1f} ms  the page's own work (rendering, outside the API calls)")
    cpu = [t.cpu_ms for t in row.traces]
    pg = [t.pg_cpu_ms for t in row.traces if t.pg_cpu_ms is not None]
    lines.append(f"    CPU: {median(cpu):.1f} ms in the app" + (f", {median(pg):.1f} ms in PostgreSQL" if pg else ""))
    for s in statements[:top]:
        times = f" ×{s.per_page:.0f}" if s.per_page >= 1.5 else ""
        lines.append(f"    {s.ms:8.1f} ms  SQL{times} {s.name[:150]}{'…' if len(s.name) > 150 else ''}")
    return lines


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
