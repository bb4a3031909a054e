"""Pages: Jinja2 templates with the console's words, Beijing time and names.

Every time a page shows is Beijing time with its offset; units, categories and districts are
shown by their Chinese names with the code beside (`城市照明管理中心 BJ-LIGHTING`).
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from console import i18n
from console.session import CSRF_FIELD, Session, language
from domain.calendar import CHINA_TZ

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
#: the share of a limit after which its time left shows amber (the 75 % reminder)
REMINDER_SHARE = 0.75


def when(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA_TZ)


def bj(value: Any, form: str = "%Y-%m-%d %H:%M") -> str:
    """A time as people read it: Beijing time with its offset."""
    moment = when(value)
    return "" if moment is None else f"{moment.strftime(form)} +08:00"


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")


def shown(value: Any) -> str:
    """A timeline detail's value as people read it: a time in Beijing time, the rest as is."""
    text = str(value)
    return bj(text) if _ISO.fullmatch(text) else text


def left(limit: dict[str, Any] | None, lang: str, now: datetime | None = None) -> dict[str, str]:
    """Time left on a limit: its words and a class (ok; amber past the reminder; red missed;
    met; none)."""
    if not limit or not limit.get("due"):
        return {"text": "", "cls": "none"}
    due = when(limit["due"])
    assert due is not None
    if limit.get("met_at"):
        missed = limit.get("missed") or (when(limit["met_at"]) or due) > due
        return {"text": i18n.text("left.missed" if missed else "left.met", lang), "cls": "red" if missed else "met"}
    now = now or datetime.now(UTC)
    rest = due - now
    if rest <= timedelta(0) or limit.get("missed"):
        return {"text": i18n.text("left.missed", lang), "cls": "red"}
    started = when(limit.get("started_at") or limit.get("requested_at"))
    cls = "ok"
    if started is not None and now >= started + (due - started) * REMINDER_SHARE:
        cls = "amber"
    minutes = int(rest.total_seconds() // 60)
    d, h, m = minutes // 1440, minutes % 1440 // 60, minutes % 60
    key, words = ("left.days", {"d": d, "h": h}) if d else (("left.hours", {"h": h, "m": m}) if h else ("left.minutes", {"m": m}))
    return {"text": i18n.text(key, lang).format(**words), "cls": cls}


class Names:
    """Chinese names of the directory's units, categories and districts, with their codes."""

    def __init__(self, directory: Any, lang: str) -> None:
        self.directory, self.lang = directory, lang

    def unit_name(self, code: str | None) -> str:
        facts = self.directory.units.get(code) if code else None
        return facts.name_zh if facts and facts.name_zh else (code or "")

    def unit(self, code: str | None) -> Markup:
        if not code:
            return Markup("")
        return Markup('{} <code class="code">{}</code>').format(self.unit_name(code), code)

    def category_name(self, code: str | None) -> str:
        c = self.directory.categories.get(code) if code else None
        if c is None:
            return code or ""
        return c.name_en if self.lang == "en" and c.name_en else c.name_zh

    def category(self, code: str | None) -> Markup:
        if not code:
            return Markup("")
        return Markup('{} <code class="code">{}</code>').format(self.category_name(code), code)

    def district_name(self, code: str | None) -> str:
        d = self.directory.districts.get(code) if code else None
        if d is None:
            return code or ""
        return d.name_en if self.lang == "en" else d.name_zh

    def district(self, code: str | None) -> Markup:
        if not code:
            return Markup("")
        return Markup('{} <code class="code">{}</code>').format(self.district_name(code), code)


def more_after(found: dict[str, Any], offset: int, size: int) -> bool:
    """Whether a list page of `size` from `offset` has a next page: the API counts a list up to
    a cap (`total_exact` false past it), so past the count a full page says there may be more."""
    if offset + size < found["total"]:
        return True
    return not found.get("total_exact", True) and len(found["items"]) >= size


def nav(role: str | None) -> list[tuple[str, str]]:
    """The menu of a role: (message key, address)."""
    base = "/console"
    by_role = {
        "operator": [("nav.intake", f"{base}/intake"), ("nav.queues", f"{base}/queues"), ("nav.appeals", f"{base}/appeals")],
        "unit_staff": [("nav.inbox", f"{base}/inbox"), ("nav.parts", f"{base}/parts")],
        "supervisor": [("nav.supervision", f"{base}/supervision"), ("nav.appeals", f"{base}/appeals"),
                       ("nav.parts", f"{base}/parts")],
        "analyst": [("nav.analytics", f"{base}/analytics"), ("nav.appeals", f"{base}/appeals")],
        "administrator": [("nav.admin", f"{base}/admin"), ("nav.appeals", f"{base}/appeals")],
    }
    return by_role.get(role or "", [])


async def page(request: Request, template: str, session: Session | None = None, *, status_code: int = 200,
               **context: Any) -> HTMLResponse:
    """Render a page (or, for an htmx request, the same template: partials are templates of
    their own) with the words, names, time helpers and the form token."""
    lang = session.lang if session else language(request)
    directory = await request.app.state.directory.get()

    def t(key: str, **words: Any) -> str:
        message = i18n.text(key, lang)
        return message.format(**words) if words else message

    def csrf_input() -> Markup:
        if session is None:
            return Markup("")
        return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, session.csrf)

    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "lang": lang,
            "me": session.me if session else None,
            "csrf": session.csrf if session else "",
            "csrf_input": csrf_input,
            "names": Names(directory, lang),
            "bj": bj,
            "shown": shown,
            "left": lambda limit: left(limit, lang),
            "nav": nav(session.role if session else None),
            "nonce": secrets.token_urlsafe(12),
            "as_json": lambda value: json.dumps(value, ensure_ascii=False),
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
