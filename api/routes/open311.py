"""Open311 GeoReport v2 under /open311/v2/ (JSON or XML by the path's suffix): the catalogue as
services, appeals filed through the same intake as POST /appeals, and what the public may see of
them. Authenticated by a channel's `api_key` (`python -m db.channels`), never by staff roles.

Parameters are read as the spec names them (`attribute[...]` included), so these routes take
any query and read it themselves; every error is the spec's list `[{"code", "description"}]`."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth import citizen_token
from api.beijing import beijing
from api.deps import (
    DirectoryDep,
    EngineDep,
    LimitsDep,
    Open311NamesDep,
    ReadEngineDep,
    SealerDep,
    SettingsDep,
    TemporalDep,
)
from api.errors import ApiError
from api.intake import AppealCreate, start_appeal, take_intake
from api.limits import RateLimit, client_of
from api.open311 import catalogue, public
from api.open311.formats import FORMATS, Open311Error, answer, error
from api.open311.locate import OutsideBeijing, nearest_street
from db import appeals as store
from db.channels import KnownChannel, channel_for_key
from domain.messages import Actor
from domain.types import Role

PREFIX = "/open311/v2"
JURISDICTION = "beijing"
#: a retry of the same request by the same channel within this window is the same appeal
RETRY_WINDOW = timedelta(minutes=10)
PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
DEFAULT_SPAN = timedelta(days=90)  # the spec's default window when no dates are given

router = APIRouter(prefix=PREFIX, tags=["open311"])

def _query(*names: str) -> dict:
    """The spec's query parameters, for the OpenAPI document (the routes read them themselves)."""
    return {"parameters": [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in names]}


#: A request from the city's app: the street lights of 方家胡同, by 安定门
_FILED = {
    "api_key": "city-app-key", "service_code": "MUNI.STREETLIGHT", "lat": "39.9462", "long": "116.4057",
    "address_string": "安定门内大街方家胡同口", "attribute[appeal_type]": "complaint",
    "description": "胡同里路灯昏暗，晚上经常有人摔跤", "first_name": "先生", "last_name": "刘", "phone": "13812345678",
}
_FORM = {
    "requestBody": {"required": True, "content": {t: {"schema": {"type": "object", "required": ["api_key", "service_code"],
        "properties": {n: {"type": "string"} for n in (
            "api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
            "attribute[appeal_type]", "attribute[urgency]", "attribute[district]", "attribute[street]",
            "description", "media_url", "first_name", "last_name", "phone", "email", "device_id", "account_id")}},
        "example": _FILED}
        for t in ("application/x-www-form-urlencoded", "application/json")}},
}
_ERRORS = {
    400: {"description": "missing or invalid parameter: `[{\"code\": 400, \"description\"}]`"},
    403: {"description": "api_key missing, unknown or revoked"},
    404: {"description": "no such service, request or token"},
    429: {"description": "rate limit of the key (or client)"},
}


def spec_route(endpoint):
    """Answer errors in the spec's format and the path's format; read parameters freely."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request, fmt: str, **kwargs) -> Response:
        if fmt not in FORMATS:
            return error("json", 404, f"format {fmt!r} is not served: use .json or .xml")
        try:
            return await endpoint(request, fmt, **kwargs)
        except Open311Error as e:
            return error(fmt, e.status, e.description, e.headers)
        except ApiError as e:
            status = {422: 400, 409: 400, 401: 403}.get(e.status, e.status)
            headers = {"Retry-After": str(e.details.get("retry_after", 60))} \
                if e.status == 429 and isinstance(e.details, dict) else None
            return error(fmt, status, e.message, headers)

    wrapped.takes_any_query = True  # api.params: the spec's names (attribute[...]) are read here
    return wrapped


async def _params(request: Request) -> dict[str, str]:
    """Query and (for POST) the form body, the body winning; a repeated name keeps its last value."""
    params = dict(request.query_params)
    if request.method == "POST":
        body = (await request.body()).decode("utf-8")
        ctype = request.headers.get("content-type", "")
        if "json" in ctype:
            try:
                loaded = json.loads(body or "{}")
            except ValueError as e:
                raise Open311Error(400, f"the body is not JSON: {e}") from e
            if not isinstance(loaded, dict):
                raise Open311Error(400, "the body is not an object of parameters")
            params |= {k: str(v) for k, v in loaded.items() if v is not None}
        elif "multipart" in ctype:
            raise Open311Error(400, "send the parameters form-encoded (media is given by media_url)")
        else:
            params |= dict(parse_qsl(body, keep_blank_values=True))
    jurisdiction = params.get("jurisdiction_id")
    if jurisdiction not in (None, "", JURISDICTION):
        raise Open311Error(404, f"jurisdiction_id {jurisdiction!r} not found (this is {JURISDICTION!r})")
    return params


@dataclass(frozen=True)
class Channels:
    """Who calls: the channel an api_key names, counted against the per-key rate limit."""

    limit: RateLimit
    engine: AsyncEngine

    async def of(self, request: Request, params: dict[str, str], *, required: bool) -> KnownChannel | None:
        """The channel the api_key names (a GET without a key counts against its client
        address). A key that is given must be live, GET or POST."""
        key = params.get("api_key")
        if not key:
            if required:
                raise Open311Error(403, "api_key is required: ask the 12345 administrators for a channel key")
            self.limit.hit(f"client:{client_of(request)}")
            return None
        channel = await channel_for_key(self.engine, key)
        if channel is None:
            raise Open311Error(403, "api_key is not valid (unknown or revoked)")
        self.limit.hit(f"channel:{channel.name}")
        return channel


async def _channels(limits: LimitsDep, engine: EngineDep) -> Channels:
    return Channels(limits.open311, engine)


ChannelsDep = Annotated[Channels, Depends(_channels)]


# --- services ----------------------------------------------------------------------------


@router.get("/services.{fmt}", summary="GeoReport v2: the catalogue as services", responses=_ERRORS,
            openapi_extra=_query("api_key", "jurisdiction_id"))
@spec_route
async def services(request: Request, fmt: str, channels: ChannelsDep, directories: DirectoryDep,
                   names_cache: Open311NamesDep) -> Response:
    params = await _params(request)
    await channels.of(request, params, required=False)
    directory = await directories.get()
    names = await names_cache.get()
    return answer(fmt, "services", catalogue.services(directory.categories, names))


@router.get("/services/{service_code}.{fmt}", summary="GeoReport v2: a service's definition", responses=_ERRORS,
            openapi_extra=_query("api_key", "jurisdiction_id"))
@spec_route
async def service_definition(request: Request, fmt: str, service_code: str, channels: ChannelsDep,
                             directories: DirectoryDep, names_cache: Open311NamesDep) -> Response:
    params = await _params(request)
    await channels.of(request, params, required=False)
    category = (await directories.get()).categories.get(service_code)
    if category is None:
        raise Open311Error(404, f"service_code {service_code!r} not found")
    names = await names_cache.get()
    return answer(fmt, "service_definition", catalogue.definition(category, names))


# --- filing an appeal --------------------------------------------------------------------


def _float(params: dict[str, str], name: str) -> float | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError as e:
        raise Open311Error(400, f"{name} is not a number: {value!r}") from e


def _retry_keys(channel: KnownChannel, params: dict[str, str], now: float) -> tuple[str, str]:
    """The intake's idempotency key for this request, and the one it had in the window before.

    GeoReport v2 gives a client no request id to retry with, so a retry is recognised by what it
    says: the same channel sending the same parameters (the key aside) within RETRY_WINDOW is
    the same appeal. Windows are fixed slots; the previous slot is looked up too, so a retry is
    caught for at least one full window after the first try."""
    fields = {k: v for k, v in params.items() if k != "api_key"}
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:40]
    slot = int(now // RETRY_WINDOW.total_seconds())
    return f"o311:{channel.name}:{digest}:{slot}", f"o311:{channel.name}:{digest}:{slot - 1}"


def _body(params: dict[str, str], channel: KnownChannel, directory, names) -> tuple[AppealCreate, str | None]:
    """The intake's body from the spec's parameters, and how the place was decided (in words)."""
    code = params.get("service_code")
    if not code:
        raise Open311Error(400, "service_code is required")
    if code not in directory.categories:
        raise Open311Error(400, f"service_code {code!r} not found: see services.json")
    lat, lon = _float(params, "lat"), _float(params, "long")
    if (lat is None) != (lon is None):
        raise Open311Error(400, "lat and long go together")
    address = params.get("address_string") or None
    if lat is None and not address and not params.get("address_id"):
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    if not params.get("description"):
        raise Open311Error(400, "description is required: what the problem is")
    appeal_type = params.get("attribute[appeal_type]")
    if not appeal_type:
        raise Open311Error(400, "attribute[appeal_type] is required: see the service's definition")
    district, street = params.get("attribute[district]") or None, params.get("attribute[street]") or None
    placed = None
    if street is None and lat is not None:
        try:
            place = nearest_street(lat, lon, set(names.streets))
        except OutsideBeijing as e:
            raise Open311Error(400, f"lat/long: {e}") from e
        street_name, street_district = names.streets[place.street]
        if district is None or district == street_district:
            street = place.street
            placed = f"位置按坐标取最近的街道办事处：{street_name}（约{place.distance_km:.1f}公里，非边界判定）"
    name = "".join(params.get(k, "") for k in ("last_name", "first_name")).strip() or None
    media = params.get("media_url")
    body = {
        "channel": channel.kind.value,
        "appeal_type": appeal_type,
        "category": code,
        "urgency": params.get("attribute[urgency]") or None,
        "location": {"district": district, "street": street, "address": address, "latitude": lat, "longitude": lon},
        "content": params["description"],
        "attachments": [media] if media else [],
        "citizen": {"name": name, "phone": params.get("phone") or None},
    }
    try:
        return AppealCreate.model_validate(body), placed
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        spec_name = {"appeal_type": "attribute[appeal_type]", "urgency": "attribute[urgency]",
                     "citizen.phone": "phone", "citizen.name": "first_name/last_name", "content": "description",
                     "location.address": "address_string", "location.district": "attribute[district]",
                     "attachments.0": "media_url"}.get(where, where)
        raise Open311Error(400, f"{spec_name}: {first['msg']}") from e


def request_token(secret: str, appeal_no: str) -> str:
    """The spec's token: the request's id and a signature (GET tokens/{token} gives the id)."""
    sig = hmac.new(secret.encode(), f"open311-token:{appeal_no}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"{appeal_no}.{sig}"


@router.post("/requests.{fmt}", summary="GeoReport v2: file an appeal", status_code=201, responses=_ERRORS,
             openapi_extra=_FORM)
@spec_route
async def create_request(request: Request, fmt: str, channels: ChannelsDep, settings: SettingsDep,
                         directories: DirectoryDep, names_cache: Open311NamesDep, engine: EngineDep,
                         sealer: SealerDep, temporal: TemporalDep) -> Response:
    """Files an appeal through the same intake as POST /appeals. The citizen's name and phone are
    sealed in PostgreSQL as at intake (an email is not kept: jiesu records none); nothing personal
    reaches Temporal. A retry of the same request within 10 minutes answers the same appeal."""
    params = await _params(request)
    channel = await channels.of(request, params, required=True)
    directory = await directories.get()
    names = await names_cache.get()
    body, placed = _body(params, channel, directory, names)
    key, previous = _retry_keys(channel, params, time.time())
    earlier = await store.find_by_idempotency_key(engine=engine, key=previous)
    row, inp, created = await take_intake(
        body, engine=engine, directory=directory, sealer=sealer,
        operator=Actor(user=f"open311:{channel.name}", role=Role.OPERATOR),
        idempotency_key=previous if earlier is not None else key,
    )
    view = await start_appeal(temporal, settings, row, inp, compensate=False, engine=engine)
    unit = (view.handling_unit if view else None) or row.handling_unit_code
    due = view.limits["completion"].due if view is not None and "completion" in view.limits else None
    notice = [f"承办单位：{names.units[unit]}" if unit in names.units else "工单已受理，待派单"]
    words = catalogue.completion_words(names, inp.urgency.value, inp.appeal_type.value)
    if words:
        notice.append(words + (f"（{beijing(due):%Y-%m-%d %H:%M}前）" if due else ""))
    if placed:
        notice.append(placed)
    item: dict[str, Any] = {
        "service_request_id": row.appeal_no,
        "token": request_token(settings.secret_key, row.appeal_no),
        "service_notice": "；".join(notice),
        "account_id": None,
    }
    if channel.trusted:  # it may hold the citizen's token (the status and the evaluation)
        item["citizen_token"] = citizen_token(settings.secret_key, row.appeal_no, row.citizen_token_version)
    return answer(fmt, "service_requests", [item], status=201 if created else 200)


# --- following appeals -------------------------------------------------------------------


def _time(params: dict[str, str], name: str) -> datetime | None:
    value = params.get(name)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise Open311Error(400, f"{name} is not a w3 date and time (2026-12-01T00:00:00+08:00): {value!r}") from e
    if moment.tzinfo is None:
        raise Open311Error(400, f"{name} needs its time zone (Z or +08:00): {value!r}")
    return moment


def _int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if not value:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise Open311Error(400, f"{name} is a whole number from {low} to {high}")
    return int(value)


@router.get("/requests.{fmt}", summary="GeoReport v2: appeals the public may see", responses=_ERRORS,
            openapi_extra=_query("service_request_id", "service_code", "start_date", "end_date", "status",
                                 "page_size", "page", "api_key", "jurisdiction_id"))
@spec_route
async def list_requests(request: Request, fmt: str, channels: ChannelsDep, reads: ReadEngineDep) -> Response:
    """Newest first, 50 a page (`page_size` up to 1000, `page` from 1). Without ids or dates, the
    last 90 days. 举报 are never listed; no personal data, no appeal text."""
    params = await _params(request)
    await channels.of(request, params, required=False)
    ids = [i.strip() for i in params.get("service_request_id", "").split(",") if i.strip()] or None
    statuses = {v.strip() for v in params.get("status", "").split(",") if v.strip()}
    if not statuses <= {"open", "closed"}:
        raise Open311Error(400, "status is open or closed (or both, comma-separated)")
    status = statuses.pop() if len(statuses) == 1 else None
    start, end = _time(params, "start_date"), _time(params, "end_date")
    if start and end and end < start:
        raise Open311Error(400, "end_date is before start_date")
    if ids is None and start is None and end is None:
        start = datetime.now(UTC) - DEFAULT_SPAN
    size = _int(params, "page_size", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = _int(params, "page", 1, 1, 100_000)
    if ids is not None and len(ids) > MAX_PAGE_SIZE:
        raise Open311Error(400, f"at most {MAX_PAGE_SIZE} service_request_id at once")
    codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()] or None
    q = public.Query(ids=ids, service_codes=codes, start=start, end=end, status=status,
                     limit=size, offset=(page - 1) * size)
    return answer(fmt, "service_requests", await public.requests(reads, q))


@router.get("/requests/{service_request_id}.{fmt}", summary="GeoReport v2: one appeal", responses=_ERRORS,
            openapi_extra=_query("api_key", "jurisdiction_id"))
@spec_route
async def get_request(request: Request, fmt: str, service_request_id: str, channels: ChannelsDep,
                      reads: ReadEngineDep) -> Response:
    params = await _params(request)
    await channels.of(request, params, required=False)
    found = await public.requests(reads, public.Query(ids=[service_request_id], limit=1))
    if not found:  # a 举报 reads exactly as a request that does not exist
        raise Open311Error(404, f"service_request_id {service_request_id!r} not found")
    return answer(fmt, "service_requests", found)


@router.get("/tokens/{token}.{fmt}", summary="GeoReport v2: the request a token stands for", responses=_ERRORS)
@spec_route
async def get_token(request: Request, fmt: str, token: str, channels: ChannelsDep, settings: SettingsDep) -> Response:
    params = await _params(request)
    await channels.of(request, params, required=False)
    appeal_no = token.rsplit(".", 1)[0]
    if not hmac.compare_digest(token, request_token(settings.secret_key, appeal_no)):
        raise Open311Error(404, "token not found")
    return answer(fmt, "service_requests", [{"service_request_id": appeal_no, "token": token}])


@router.get("/servicerequestupdates.{fmt}", summary="FixMyStreet's extension: what changed since a time",
            responses=_ERRORS, openapi_extra=_query("start_date", "end_date", "api_key", "jurisdiction_id"))
@spec_route
async def request_updates(request: Request, fmt: str, channels: ChannelsDep, reads: ReadEngineDep) -> Response:
    """Every public change (accepted, reported done, closed ...) from start_date to end_date,
    oldest first, at most 1000: poll again from the last `updated_datetime`."""
    params = await _params(request)
    await channels.of(request, params, required=False)
    start, end = _time(params, "start_date"), _time(params, "end_date")
    if start is None and end is None:
        start = datetime.now(UTC) - timedelta(days=1)
    items = await public.updates(reads, start, end, MAX_PAGE_SIZE)
    return answer(fmt, "service_requests_updates", items)
