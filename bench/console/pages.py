"""Which pages the benchmark loads: every GET route of the console (`/console/…`), found in the
app itself, so a page added later is measured without editing the benchmark. Path parameters
(and required query parameters) are filled per person from the data — the appeal at the top of
their own list, a closed month, their unit or district, the citizen's token — and a parameter
that takes one of a few values (an enum or a `Literal`) makes one page per value. A page whose
parameter nobody can fill is kept, skipped, with the reason."""

from __future__ import annotations

import enum
import re
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from fastapi import FastAPI

BASE = "/console"
#: Not pages anyone works on: the login form is how the benchmark logs in.
NOT_PAGES = {f"{BASE}/login"}
#: What staff reload all day (the inbox, the queues, the parts inbox): p95 < 100 ms.
FAST_SEGMENTS = ("inbox", "queues", "parts")
FAST_MS = 100.0
PAGE_MS = 200.0
#: A download (the CSV of a list, up to 5,000 rows fetched page by page from the API) is waited
#: for once, not reloaded: its own target.
DOWNLOAD_SUFFIXES = (".csv",)
DOWNLOAD_MS = 1000.0
#: Optional query parameters that are not filters but who is asking (the citizen's link).
CREDENTIALS = ("t", "token")
#: Optional query parameters that narrow a page to a place or a kind of problem: a page that
#: takes any of them is also loaded with them filled from the data (the operator's preview of
#: where an order would go, the analyst's figures of one district …).
FILTERS = ("category", "district", "street", "location.district", "location.street")


@dataclass(frozen=True)
class Param:
    name: str
    choices: tuple[str, ...] = ()  # an enum's or a Literal's values: one page each


@dataclass(frozen=True)
class Page:
    """One console address: its route template, and the parameters to fill."""

    template: str  # /console/appeals/{appeal_no}
    path_params: tuple[Param, ...] = ()
    query: tuple[str, ...] = ()  # required, or a credential
    fixed: tuple[tuple[str, str], ...] = ()  # parameters already chosen (a value of an enum)
    filters: tuple[str, ...] = ()  # optional query parameters filled from the data (a variant)
    tab: tuple[tuple[str, str], ...] = ()  # the query of one of the page's tabs (a variant)
    refresh: bool = False  # the htmx refresh of a page that updates itself

    @property
    def label(self) -> str:
        name = self.template
        for key, value in self.fixed:
            name = name.replace("{" + key + "}", value)
        if self.tab:
            name += "?" + urlencode(self.tab)
        if self.filters:
            name += "?" + "&".join(f"{k}=…" for k in self.filters)
        return name + (" ↻" if self.refresh else "")

    @property
    def variant(self) -> bool:
        """A tab, a filtered view or a refresh of a page: loaded as the people whose menu has the
        page (everyone else loads the page itself)."""
        return bool(self.tab or self.filters or self.refresh)

    @property
    def download(self) -> bool:
        return self.template.endswith(DOWNLOAD_SUFFIXES)

    @property
    def target_ms(self) -> float:
        if self.download:
            return DOWNLOAD_MS
        first = self.template.removeprefix(BASE).strip("/").split("/")[0]
        return FAST_MS if first in FAST_SEGMENTS else PAGE_MS


@dataclass
class Filled:
    """A page made concrete for one person, or why it cannot be."""

    page: Page
    path: str = ""
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    missing: str | None = None  # a parameter this person has no value for


def _routes(app: FastAPI) -> Iterator[Any]:
    """The app's routes with their full paths (routers included under a prefix too)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazily included routers: the routes are flat
        yield from app.routes
        return
    yield from iter_route_contexts(app.routes)


def _dependants(dependant: Any) -> Iterator[Any]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _choices(annotation: Any) -> tuple[str, ...]:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return tuple(str(m.value) for m in annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(v) for v in typing.get_args(annotation))
    return ()


def discover(app: FastAPI) -> list[Page]:
    """Every GET page under /console (one per value of an enum path parameter), in the app's order."""
    pages: list[Page] = []
    seen: set[str] = set()
    for route in _routes(app):
        path = getattr(route, "path", None)
        if not path or not (path == BASE or path.startswith(BASE + "/")) or "GET" not in (route.methods or ()):
            continue
        path = path.rstrip("/") or BASE
        dependant = getattr(route, "dependant", None)
        if path in NOT_PAGES or path in seen or dependant is None:
            continue
        seen.add(path)
        params, query, filters = [], [], []
        for d in _dependants(dependant):
            for p in d.path_params:
                params.append(Param(p.alias or p.name, _choices(p.field_info.annotation)))
            for q in d.query_params:
                name = q.alias or q.name
                if q.field_info.is_required() or name in CREDENTIALS:
                    query.append(name)
                elif name in FILTERS:
                    filters.append(name)
        page = Page(path, tuple(dict.fromkeys(params)), tuple(dict.fromkeys(query)))
        pages.extend(_expand(page))
        if filters:
            pages.extend(_expand(replace(page, filters=tuple(dict.fromkeys(filters)))))
    return pages


def _expand(page: Page) -> list[Page]:
    """One page per value of each path parameter with a few values."""
    out = [page]
    for p in page.path_params:
        if p.choices:
            out = [replace(o, fixed=(*o.fixed, (p.name, v))) for o in out for v in p.choices]
    return out


def fill(page: Page, value: Callable[[str], str | None]) -> Filled:
    """The page's address for a person whose value for a parameter name is `value(name)`."""
    filled = Filled(page)
    path = page.template
    fixed = dict(page.fixed)
    for p in page.path_params:
        given = fixed.get(p.name) or value(p.name)
        if given is None:
            filled.missing = p.name
            return filled
        path = path.replace("{" + p.name + "}", quote(given, safe=""))
    for name in page.query:
        given = value(name)
        if given is not None:
            filled.params[name] = given
        elif name not in CREDENTIALS:
            filled.missing = name
            return filled
    for name in page.filters:
        given = value(name)
        if given is None:
            filled.missing = name
            return filled
        filled.params[name] = given
    filled.params.update(page.tab)
    filled.path = path
    if page.refresh:
        filled.headers["HX-Request"] = "true"
    return filled


# --- what a page's HTML says: its refresh, its tabs --------------------------------------------

_EVERY = re.compile(r"\bevery\s+\d")


class _Parts(HTMLParser):
    """The addresses an htmx element reloads on a timer (`hx-get` with `hx-trigger="every 15s"`),
    and the links of each <nav> with which of them is the page shown (`aria-current`)."""

    def __init__(self) -> None:
        super().__init__()
        self.timers: list[str] = []
        self.links: list[str] = []
        self.navs: list[list[tuple[str, bool]]] = []
        self.menu: list[str] | None = None  # the links of the first <nav> in the <header>: the role's menu
        self._open_navs = 0
        self._header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("hx-get") and _EVERY.search(a.get("hx-trigger") or ""):
            self.timers.append(str(a["hx-get"]))
        if tag == "header":
            self._header = True
        elif tag == "nav":
            self._open_navs += 1
            self.navs.append([])
            if self._header and self.menu is None:
                self.menu = []
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
            if self._open_navs:
                self.navs[-1].append((str(a["href"]), a.get("aria-current") is not None))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self._open_navs:
            self._open_navs -= 1
            if self._header and self.menu == []:
                self.menu = [href for href, _ in self.navs[-1]]
        elif tag == "header":
            self._header = False


def _parts(html: str) -> _Parts:
    parser = _Parts()
    parser.feed(html)
    return parser


def refreshes(html: str, filled: Filled) -> Page | None:
    """The refresh of a page that reloads itself (its own address, asked by htmx), if it does. A
    timer on another address needs nothing here: that address is a page of its own."""
    if any(url.split("?")[0].rstrip("/") == filled.path.rstrip("/") for url in _parts(html).timers):
        return replace(filled.page, refresh=True)
    return None


def console_links(html: str) -> list[str]:
    """The page's links to console addresses (not to its static files)."""
    return [h for h in _parts(html).links if h.startswith(BASE + "/") and not h.startswith(f"{BASE}/static/")]


#: the most pages made from links for one page that the data could not fill
FROM_LINKS = 10


def from_links(page: Page, links: list[str]) -> list[Page]:
    """The page with its path parameters taken from links to it (one page per distinct address,
    the link's query kept): `/console/analytics/export/{what}.csv` from the analyst's
    `/console/analytics/export/rates.csv?period=2026-11`."""
    names = [p.name for p in page.path_params]
    pattern = re.escape(page.template)
    for name in names:
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/?#]+)")
    found: dict[str, Page] = {}
    for href in links:
        address = urlsplit(href)
        m = re.fullmatch(pattern, address.path)
        if m is None or address.path in found:
            continue
        fixed = tuple((n, unquote(m.group(n))) for n in names)
        found[address.path] = replace(page, fixed=fixed, tab=tuple(parse_qsl(address.query)))
        if len(found) == FROM_LINKS:
            break
    return list(found.values())


def menu(html: str) -> list[str]:
    """The addresses of the signed-in person's menu (the first <nav> of the page's <header>)."""
    return _parts(html).menu or []


def in_menu(page: Page, menu: list[str]) -> bool:
    """Is the page one of the menu's (its address, or under it)?"""
    path = page.template
    return any(path == m or path.startswith(m.rstrip("/") + "/") or path.startswith(m + "?") for m in menu)


def tabs(html: str, filled: Filled) -> list[Page]:
    """The page's other tabs: in a <nav> that marks the page shown (`aria-current`), the links to
    this same address with another query (`/console/queues?queue=objections`) — one page each."""
    found = []
    for links in _parts(html).navs:
        if not any(current for _, current in links):
            continue
        for href, current in links:
            address = urlsplit(href)
            if current or address.path.rstrip("/") != filled.path.rstrip("/") or not address.query:
                continue
            tab = replace(filled.page, tab=tuple(parse_qsl(address.query)))
            if tab not in found:
                found.append(tab)
    return found


class _LoginForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.fields: dict[str, str] = {}
        self.action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and a.get("id") == "login-form":
            self.inside, self.action = True, a.get("action")
        elif tag == "input" and self.inside and a.get("name") and a.get("type") == "hidden":
            self.fields[str(a["name"])] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def login_form(html: str) -> tuple[str, dict[str, str]]:
    """The login form's address and its hidden fields (the CSRF token among them)."""
    parser = _LoginForm()
    parser.feed(html)
    if parser.action is None:
        raise RuntimeError("no login form (form#login-form) on the login page")
    return parser.action, parser.fields
