"""Which endpoints the benchmark calls, and with what: found in the app's OpenAPI schema (every GET
tagged `assessment` or `analytics`, and the list routes of `governance`), so routes added later are
measured too; parameters filled from the data — a closed month, the current month, a quarter
through `from`/`to`, a district, unit, street and category that have appeals, every value of an
enum in turn, and CSV where the route offers it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import asyncpg

from analytics.periods import month_start, next_month

TAGS = ("assessment", "analytics")
LISTS = ("governance",)  # only their routes without path parameters
FILTERS = ("district", "unit", "street", "category")


@dataclass
class Context:
    """Values from the data to fill parameters with."""

    this_month: str
    closed_month: str
    quarter: tuple[date, date]
    year: int
    district: str
    unit: str
    street: str
    category: str
    appeal_no: str
    extra: dict[str, str] = field(default_factory=dict)  # path parameters found in the data (task ids…)


async def context(conn: asyncpg.Connection, today: date) -> Context:
    """The month of `today`, the month before, the three months before, and the busiest district,
    unit, street and pain-point category of the month before."""
    first = month_start(today)
    closed = month_start(first - timedelta(days=1))
    quarter_start = month_start(month_start(closed - timedelta(days=1)) - timedelta(days=1))
    lo, hi = closed, next_month(closed)

    async def busiest(column: str, extra: str = "") -> str:
        return await conn.fetchval(
            f"""SELECT {column} FROM appeal a WHERE received_at >= $1 AND received_at < $2 AND {column} IS NOT NULL {extra}
                GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""", lo, hi)

    ctx = Context(
        this_month=f"{first:%Y-%m}",
        closed_month=f"{closed:%Y-%m}",
        quarter=(quarter_start, first - timedelta(days=1)),
        year=today.year,
        district=await busiest("district_code"),
        unit=await busiest("handling_unit_code"),
        street=await busiest("street_code"),
        category=await busiest("category_code",
                               "AND category_code IN (SELECT code FROM category WHERE pain_point)"),
        appeal_no=await conn.fetchval("SELECT appeal_no FROM appeal ORDER BY received_at DESC LIMIT 1"),
    )
    if await conn.fetchval("SELECT to_regclass('governance_task') IS NOT NULL"):
        task = await conn.fetchval("SELECT min(id) FROM governance_task")
        if task is not None:
            ctx.extra["task_id"] = str(task)
    return ctx


@dataclass
class Endpoint:
    method: str
    template: str  # /assessment/rates
    tag: str
    path: str = ""  # with its path parameters filled
    variants: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None  # why it cannot be called

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


def discover(schema: dict[str, Any], ctx: Context) -> list[Endpoint]:
    found = []
    for template, ops in schema.get("paths", {}).items():
        op = ops.get("get")
        if op is None:
            continue
        tags = op.get("tags", [])
        tag = next((t for t in tags if t in TAGS), None)
        if tag is None and any(t in LISTS for t in tags) and "{" not in template:
            tag = next(t for t in tags if t in LISTS)
        if tag is None:
            continue
        ep = Endpoint("GET", template, tag)
        _fill(ep, op.get("parameters", []), schema, ctx)
        found.append(ep)
    found.append(open311_requests(ctx))
    return sorted(found, key=lambda e: (TAGS + LISTS).index(e.tag) if e.tag in TAGS + LISTS else 9)


#: Open311's public list: a page of 50 (the default) should come back with p95 < 100 ms
OPEN311_TARGET_MS = 100


def open311_requests(ctx: Context) -> Endpoint:
    """GET /open311/v2/requests.json over the quarter: the first page, open ones, one category,
    and a page deep in the list (no key: as the public calls it)."""
    window = {"start_date": f"{ctx.quarter[0]}T00:00:00+08:00", "end_date": f"{ctx.quarter[1]}T23:59:59+08:00"}
    ep = Endpoint("GET", "/open311/v2/requests.{fmt}", "open311", path="/open311/v2/requests.json")
    ep.variants = [window, window | {"status": "open"}, window | {"service_code": ctx.category},
                   window | {"page": "200"}, {}]
    return ep


def _schema_of(param: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    s = param.get("schema", {})
    if "$ref" in s:
        s = _ref(s["$ref"], schema)
    for option in s.get("anyOf", []):  # Optional[X]
        if option.get("type") != "null":
            return _ref(option["$ref"], schema) if "$ref" in option else option
    return s


def _ref(ref: str, schema: dict[str, Any]) -> dict[str, Any]:
    node: Any = schema
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _value(name: str, s: dict[str, Any], ctx: Context) -> Any:
    """A value from the data for a parameter, by its name (None: no idea)."""
    key = name.lower()
    if key in ctx.extra:
        return ctx.extra[key]
    if key in FILTERS:
        return getattr(ctx, key)
    if key in ("month",):
        return ctx.closed_month
    if key == "year":
        return ctx.year
    if key in ("appeal_no", "no"):
        return ctx.appeal_no
    if "enum" in s:
        return s["enum"][0]
    if "default" in s:
        return s["default"]
    if s.get("type") == "integer" and "minimum" in s:
        return s["minimum"]
    return None


def _fill(ep: Endpoint, params: list[dict[str, Any]], schema: dict[str, Any], ctx: Context) -> None:
    path = ep.template
    query: dict[str, dict[str, Any]] = {}
    for p in params:
        s = _schema_of(p, schema)
        if p["in"] == "path":
            value = _value(p["name"], s, ctx)
            if value is None:
                ep.skipped = f"no value in the data for the path parameter {p['name']}"
                return
            path = path.replace("{" + p["name"] + "}", str(value))
        elif p["in"] == "query":
            query[p["name"]] = {"schema": s, "required": p.get("required", False)}
    ep.path = path
    base: dict[str, Any] = {}
    for name, q in query.items():
        if q["required"]:
            value = _value(name, q["schema"], ctx)
            if value is None:
                ep.skipped = f"no value for the required parameter {name}"
                return
            base[name] = value
    month_like = "period" in query and _takes_month(query["period"]["schema"])
    closed = {"period": ctx.closed_month} if month_like else {"month": ctx.closed_month} if "month" in query else {}
    variants = [dict(base)]  # the default period: this month (or what the route defaults to)
    if closed:
        variants.append(base | closed)
    if "from" in query and "to" in query:
        variants.append(base | {"from": ctx.quarter[0].isoformat(), "to": ctx.quarter[1].isoformat()})
    for name in FILTERS:
        if name in query and name not in base:
            variants.append(base | closed | {name: getattr(ctx, name)})
    fmt = query.get("format", {}).get("schema", {})
    if "csv" in fmt.get("enum", []):
        variants.append(base | closed | {"format": "csv"})
    for name, q in query.items():  # every value of an enum, in turn
        values = q["schema"].get("enum")
        if name == "format" or name in FILTERS or not values:
            continue
        values = values if q["required"] else [None, *values]  # the route's default first
        for i, v in enumerate(variants):
            if values[i % len(values)] is not None:
                v[name] = values[i % len(values)]
    ep.variants = variants


def _takes_month(s: dict[str, Any]) -> bool:
    pattern = s.get("pattern")
    return pattern is None or re.fullmatch(pattern, "2026-10") is not None
