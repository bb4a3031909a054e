"""Who loads the pages: one account per role, bound to a unit or district with data in the
generated set (the unit with the most open orders, the unit with the most open parts, the
busiest district), logged in through the console's own login form (its CSRF token, then the
session cookie), and the citizen with the token link of an appeal awaiting evaluation. Each
person brings the values their pages' parameters are filled with."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg
import httpx
from sqlmodel import select

from api.auth import citizen_token
from bench.analytics import endpoints
from bench.console.pages import BASE, login_form, menu
from console.session import COOKIE
from db.models import User
from db.parts import OPEN as OPEN_PARTS
from db.session import make_engine, session_scope
from db.users import hash_password
from domain.messages import OPEN_ORDER_STATUSES
from domain.types import Role
from settings import Settings

#: parameter names that mean the same value
ALIASES = {
    "no": "appeal_no",
    "unit_code": "unit",
    "district_code": "district",
    "period": "month",
    "token": "t",
    "street_code": "street",
    "category_code": "category",
    "location.district": "district",
    "location.street": "street",
}


@dataclass
class Person:
    label: str  # what the report calls them
    role: Role | None  # None: the citizen, by the token link
    username: str | None = None
    unit: str | None = None
    district: str | None = None
    values: dict[str, str] = field(default_factory=dict)  # parameter name → value
    http: httpx.AsyncClient | None = None
    token: str | None = None  # the API token the session cookie holds
    menu: list[str] = field(default_factory=list)  # the addresses of their menu


async def busiest_unit(conn: asyncpg.Connection) -> str:
    """The unit with the most open orders: the longest inbox."""
    return await conn.fetchval(
        """SELECT handling_unit_code FROM appeal WHERE status = ANY($1::text[]) AND handling_unit_code IS NOT NULL
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""",
        list(OPEN_ORDER_STATUSES),
    )


async def busiest_parts_unit(conn: asyncpg.Connection) -> str | None:
    """The unit with the most open parts asked of it (co-handling, whistles)."""
    return await conn.fetchval(
        "SELECT unit_code FROM appeal_part WHERE status = ANY($1::text[]) GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        list(OPEN_PARTS),
    )


async def busiest_street(conn: asyncpg.Connection, district: str) -> str | None:
    """The street or township of the district with the most appeals (a place that has data)."""
    return await conn.fetchval(
        """SELECT street_code FROM appeal WHERE district_code = $1 AND street_code IS NOT NULL
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""",
        district,
    )


async def people(conn: asyncpg.Connection, ctx: endpoints.Context) -> list[Person]:
    unit = await busiest_unit(conn)
    parts_unit = await busiest_parts_unit(conn)
    found = [
        Person("operator", Role.OPERATOR, "bench-operator"),
        Person(f"unit_staff {unit}", Role.UNIT_STAFF, "bench-unit", unit=unit),
    ]
    if parts_unit and parts_unit != unit:
        found.append(Person(f"unit_staff {parts_unit} (parts)", Role.UNIT_STAFF, "bench-parts-unit", unit=parts_unit))
    found += [
        Person("supervisor", Role.SUPERVISOR, "bench-supervisor"),
        Person(f"supervisor {ctx.district}", Role.SUPERVISOR, "bench-district-supervisor", district=ctx.district),
        Person("analyst", Role.ANALYST, "bench-analyst"),
        Person("administrator", Role.ADMINISTRATOR, "bench-admin"),
        Person("citizen", None),
    ]
    return found


async def accounts(settings: Settings, persons: list[Person], password: str) -> None:
    """The staff accounts, made or set again (password, binding, active) for this run."""
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    try:
        async with session_scope(engine) as session:
            for p in persons:
                if p.username is None or p.role is None:
                    continue
                user = (await session.exec(select(User).where(User.username == p.username))).first()
                if user is None:
                    user = User(username=p.username, display_name=f"Benchmark {p.label}", password_hash="", role=p.role)
                user.password_hash, user.role = hash_password(password), p.role
                user.unit_code, user.district_code, user.active = p.unit, p.district, True
                session.add(user)
    finally:
        await engine.dispose()


async def log_in(p: Person, base_url: str, password: str) -> None:
    """Through the login form, as a browser would: its page (and CSRF cookie), then the form."""
    p.http = httpx.AsyncClient(base_url=base_url, timeout=120, follow_redirects=False)
    if p.username is None:
        return
    form = await p.http.get(f"{BASE}/login")
    form.raise_for_status()
    action, hidden = login_form(form.text)
    answer = await p.http.post(action, data={**hidden, "username": p.username, "password": password})
    if answer.status_code != 303 or COOKIE not in p.http.cookies:
        raise RuntimeError(f"{p.username} could not log in through the form: {answer.status_code} {answer.text[:200]}")
    p.token = p.http.cookies[COOKIE]
    home = await p.http.get(BASE, follow_redirects=True)  # their home page, with their menu
    p.menu = menu(home.text)


async def fill_values(p: Person, conn: asyncpg.Connection, ctx: endpoints.Context, secret: str) -> None:
    """The values this person's pages are filled with: the data's (a closed month, the busiest
    street …), their own unit and district, and the appeal at the top of their list (nearest
    limit first, as they would open it) — or, for the citizen, an appeal awaiting evaluation and
    its token."""
    district = p.district or ctx.district
    v = {
        "month": ctx.closed_month,
        "this_month": ctx.this_month,
        "year": str(ctx.year),
        "district": district,
        "unit": p.unit or ctx.unit,
        "street": await busiest_street(conn, district) or ctx.street,
        "category": ctx.category,
        **ctx.extra,
    }
    if p.role is None:
        row = await conn.fetchrow(
            """SELECT appeal_no, citizen_token_version FROM appeal WHERE status = 'awaiting_evaluation'
               ORDER BY received_at DESC LIMIT 1"""
        )
        row = row or await conn.fetchrow(
            "SELECT appeal_no, citizen_token_version FROM appeal ORDER BY received_at DESC LIMIT 1"
        )
        v["appeal_no"] = row["appeal_no"]
        v["t"] = citizen_token(secret, row["appeal_no"], row["citizen_token_version"])
    else:
        assert p.http is not None
        top = await p.http.get(
            "/appeals",
            params={"open": "true", "sort": "due", "limit": 1},
            headers={"Authorization": f"Bearer {p.token}"},
        )
        items = top.json().get("items", []) if top.status_code == 200 else []
        if items:
            v["appeal_no"] = items[0]["appeal_no"]
    p.values = v


def value_of(p: Person, name: str) -> str | None:
    return p.values.get(ALIASES.get(name, name), p.values.get(name))
