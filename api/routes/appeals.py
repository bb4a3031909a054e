"""Appeals: intake, lists and detail from PostgreSQL, and every staff action as a workflow Update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi import Body as InBody
from pydantic import BaseModel, ConfigDict, Field, create_model

from api.auth import CitizenToken, CurrentPrincipal, OperatorDep, citizen_token
from api.csv import CSV_RESPONSES, LIST_CSV_MOST, csv_response
from api.deps import DirectoryDep, EngineDep, LimitsDep, ReadsDep, SealerDep, SessionDep, SettingsDep, TemporalDep
from api.error_codes import ACTION, responses
from api.errors import ApiError
from api.idempotency import IdempotencyKey, update_id
from api.intake import AppealCreate, start_appeal, take_intake
from api.periods import FormatDep
from api.privacy import scrubbed_for_appeal
from api.scope import appeal_scope
from api.temporal_calls import UPDATE_RPC_TIMEOUT, send_update
from api.visible import OptionalPrincipal, VisibleAppeal, appeal_for
from db import appeals as store
from db.models import Appeal
from db.reference import Directory
from domain import appeal as rules
from domain import collaboration, display
from domain import parts as part_rules
from domain.core import Action, Route, offered
from domain.messages import (
    AppealStatus,
    AppealView,
    CitizenContacted,
    Limit,
    Outcome,
    PartKind,
    PartView,
    Satisfaction,
)
from domain.types import AppealType, Channel, Urgency
from workflows.appeal import AppealWorkflow

router = APIRouter(
    tags=["appeals"], responses=responses("not_found", not_found="the appeal is unknown, or not one the caller may see")
)


# --- what the API shows ---------------------------------------------------------------------


class LimitOut(BaseModel):
    started_at: datetime
    due: datetime
    met_at: datetime | None
    missed: bool
    met_in_time: bool | None = Field(description="null while the limit is still running")

    @classmethod
    def of(cls, limit: Limit) -> LimitOut:
        return cls(
            **limit.model_dump(include=set(cls.model_fields) - {"met_in_time"}),
            met_in_time=None if limit.open else limit.met_in_time,
        )


class AppealOut(BaseModel):
    appeal_no: str
    status: AppealStatus
    appeal_type: AppealType
    channel: Channel
    category: str
    urgency: Urgency
    district: str | None
    street: str | None
    location_address: str | None
    content: str
    attachments: list[str]
    handling_unit: str | None
    units: list[str] = Field(description="every unit the order was dispatched to, in order")
    received_at: datetime
    dispatched_at: datetime | None
    limits: dict[str, LimitOut]
    objection: dict[str, Any] | None
    extension: str | None
    overdue: bool
    supervised: bool
    rehandle_count: int
    resolved: bool | None = Field(description="true only when the citizen said it was resolved")
    parts: dict[str, PartView] = Field(default_factory=dict, description="co-handling units and summoned departments")
    supervision_level: str | None = None
    master_no: str | None = Field(default=None, description="linked to this appeal")
    link_kind: str | None = None
    followers: list[str] = Field(default_factory=list)
    origin: dict[str, str] | None = Field(default=None, description="transferred in from: hotline and its number")
    satisfaction: Satisfaction | None
    citizen_contacted: CitizenContacted | None = Field(
        default=None, description="the citizen's answer at the (last round's) return visit: did the unit get in touch?"
    )
    outcome: Outcome | None
    closed_at: datetime | None
    projection_failed: bool = Field(
        default=False,
        description="PostgreSQL refused to record the appeal's last change: its workflow runs on and its timeline "
        "says so, but lists may show an older state until the record goes through (administrators are alerted)",
    )
    workflow_ended: str | None = Field(
        default=None,
        description="open, but its workflow ended (terminated, failed, timed_out, canceled): nothing reminds or "
        "escalates it until an administrator restarts or closes it (docs/operations.md, finding stuck cases)",
    )


class IntakeOut(BaseModel):
    appeal: AppealOut
    citizen_token: str = Field(description="give it to the citizen: it shows the status and allows the evaluation")


class AppealPage(BaseModel):
    items: list[AppealOut]
    total: int = Field(description=f"how many appeals the filters find, counted up to {store.COUNT_CAP:,}")
    total_exact: bool = Field(
        default=True,
        description=f"false when they find more than {store.COUNT_CAP:,}: `total` is then {store.COUNT_CAP:,} (narrow the "
        "filters, or page on while pages come full)",
    )
    limit: int
    offset: int


class TimelineEntry(BaseModel):
    seq: int
    kind: str
    at: datetime
    actor: str | None
    actor_role: str | None
    unit: str | None
    detail: dict[str, Any]


#: AppealOut's fields the row holds: the intake's facts (the view repeats some of them; the row's
#: are shown), by their column on the row.
_FROM_ROW = {
    "appeal_no": "appeal_no",
    "appeal_type": "appeal_type",
    "channel": "channel",
    "category": "category_code",
    "district": "district_code",
    "street": "street_code",
    "location_address": "location_address",
    "content": "content",
    "attachments": "attachments",
    "received_at": "received_at",
    "workflow_ended": "workflow_ended",
}
#: AppealOut's other fields that the workflow's view has, by the same name: the workflow's word.
_FROM_VIEW = (AppealOut.model_fields.keys() & AppealView.model_fields.keys()) - _FROM_ROW.keys()


def present(row: Appeal, view: AppealView | None = None) -> AppealOut:
    """The appeal as the API shows it: the row's intake facts plus the workflow's view (the one
    just returned by an update, or the last one projected)."""
    if view is None and row.seq > 0:
        view = AppealView.model_validate(row.state)
    return AppealOut(
        **{out: getattr(row, column) for out, column in _FROM_ROW.items()},
        **(_said(view) if view is not None else _before_the_workflow(row)),
        origin={"hotline": row.origin_hotline, "external_no": row.origin_no} if row.origin_hotline else None,
    )


def _said(view: AppealView) -> dict[str, Any]:
    said = {name: getattr(view, name) for name in _FROM_VIEW}
    return said | dict(
        limits={name: LimitOut.of(limit) for name, limit in view.limits.items()},
        objection=view.objection.model_dump(mode="json") if view.objection else None,
    )


def _before_the_workflow(row: Appeal) -> dict[str, Any]:
    """Before the workflow's first word: what a new view says (its defaults), with what the
    intake recorded on the row."""
    said = {name: AppealView.model_fields[name].get_default(call_default_factory=True) for name in _FROM_VIEW}
    return said | dict(
        urgency=row.urgency,
        # the unit the intake routed to (recorded with it)
        handling_unit=row.handling_unit_code,
        units=[u for u in [row.handling_unit_code] if u],
        projection_failed=row.projection_failed_at is not None,
    )


# --- intake and reads ----------------------------------------------------------------------


@router.post(
    "/appeals",
    status_code=201,
    response_model=IntakeOut,
    responses={
        200: {"model": IntakeOut, "description": "a retry with the same Idempotency-Key"},
        **responses(
            "idempotency_conflict",
            "validation_error",
            "invalid",
            "temporal_unavailable",
            validation_error="the input is malformed (a field missing, an unknown street, unit or category, a "
            "phone or ID number in the content); `details` names each field",
            invalid="the intake's decision lacks what it needs (an answer, the reason not accepted, the emergency "
            "service, a district to route by)",
            temporal_unavailable="Temporal does not answer: without an Idempotency-Key nothing was recorded; with "
            "one, the appeal is recorded and starts on its own within a minute",
        ),
    },
)
async def create_appeal(
    body: AppealCreate,
    response: Response,
    settings: SettingsDep,
    temporal: TemporalDep,
    directory: DirectoryDep,
    engine: EngineDep,
    sealer: SealerDep,
    limits: LimitsDep,
    principal: OperatorDep,
    idempotency_key: IdempotencyKey = None,
):
    """Record a work order (工单) and start its workflow: answered on the spot, dispatched (to the
    unit named, or by the catalogue), held for later, refused with the right channel, or
    transferred to an emergency service. A retry with the same Idempotency-Key returns the
    same appeal and never starts a second workflow."""
    limits.intake.hit(principal.username)
    row, inp, created = await take_intake(
        body, engine=engine, directory=await directory.get(), sealer=sealer,
        operator=principal.actor,
        idempotency_key=idempotency_key,
    )
    view = await start_appeal(
        temporal, settings, row, inp, compensate=created and idempotency_key is None, engine=engine
    )
    if not created:
        response.status_code = 200
    return IntakeOut(
        appeal=present(row, view), citizen_token=citizen_token(settings.secret_key, row.appeal_no, row.citizen_token_version)
    )


#: The columns of a list's CSV: names beside codes, Beijing times with their offset.
LIST_CSV_COLUMNS = [
    "appeal_no", "status", "status_name", "category", "category_name", "district", "district_name", "street",
    "handling_unit", "handling_unit_name", "received_at", "next_limit", "next_limit_name", "next_due", "overdue",
]


def list_csv_rows(rows: Iterable[Any], directory: Directory) -> Iterator[dict[str, Any]]:
    """`store.list_rows` as the CSV's rows (LIST_CSV_COLUMNS)."""
    for r in rows:
        nearest = display.nearest_limit(r.status, r.limits or {})
        unit, category = directory.units.get(r.handling_unit_code or ""), directory.categories.get(r.category_code)
        district = directory.districts.get(r.district_code or "")
        yield {
            "appeal_no": r.appeal_no,
            "status": r.status,
            "status_name": display.STATUS_NAMES.get(r.status, r.status),  # a StrEnum key is its text
            "category": r.category_code,
            "category_name": category.name_zh if category else None,
            "district": r.district_code,
            "district_name": district.name_zh if district else None,
            "street": r.street_code,
            "handling_unit": r.handling_unit_code,
            "handling_unit_name": unit.name_zh if unit else None,
            "received_at": r.received_at,
            "next_limit": nearest[0] if nearest else None,
            "next_limit_name": display.LIMIT_NAMES.get(nearest[0], nearest[0]) if nearest else None,
            "next_due": datetime.fromisoformat(nearest[1]["due"]) if nearest else None,
            "overdue": r.overdue,
        }


@router.get(
    "/appeals",
    response_model=AppealPage,
    responses={
        **responses("forbidden", forbidden="a district supervisor asking for another district's appeals"),
        **CSV_RESPONSES,
    },
)
async def list_appeals(
    session: SessionDep,
    principal: CurrentPrincipal,
    directory: DirectoryDep,
    status: AppealStatus | None = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    district: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    street: Annotated[str | None, Query(max_length=40)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    overdue: bool | None = None,
    open_orders: Annotated[
        bool | None,
        Query(alias="open", description="true: open orders only (not closed, and not a consultation answered on the spot); "
                          "false: the others"),
    ] = None,
    received_from: Annotated[datetime | None, Query(alias="from")] = None,
    received_to: Annotated[datetime | None, Query(alias="to")] = None,
    q: Annotated[str | None, Query(max_length=100, description="text in the content or the number")] = None,
    extension: Annotated[Literal["requested", "approved", "rejected"] | None, Query(
        description="the extension request: requested (waiting for the operator's review, while the order is "
        "handled), approved or rejected")] = None,
    sort: Annotated[Literal["newest", "oldest", "due"], Query(
        description="newest: received last first; oldest: received first first (a queue worked in order); due: "
        "the nearest unmet limit first (contact until contacted, then completion), those without one (done, "
        "answered, linked, closed) last")] = "newest",
    limit: Annotated[int, Query(ge=1, le=LIST_CSV_MOST, description="at most 200 (5,000 with format=csv)")] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    fmt: FormatDep = "json",
):
    """Appeals from PostgreSQL, newest first (`sort=oldest`: oldest first; `sort=due`: the nearest
    unmet limit first), filtered and paged. Unit staff see what is or was dispatched to their unit; a district
    supervisor sees the district (another is a 403). `format=csv`: the same list as a file, up to
    5,000 rows in one answer, names beside codes and Beijing times (what the console's lists download)."""
    if fmt == "json" and limit > 200:
        raise ApiError(422, "validation_error", "'limit' is at most 200 (5,000 with format=csv)", [{"field": "limit"}])
    for name, value in (("from", received_from), ("to", received_to)):
        if value is not None and value.tzinfo is None:
            raise ApiError(422, "validation_error", f"'{name}' needs a timezone", [{"field": name}])
    if received_from and received_to and received_to < received_from:
        raise ApiError(422, "validation_error", "'to' is before 'from'", [{"field": "to"}])
    scope = appeal_scope(principal, district)
    f = store.AppealFilter(
        status=status.value if status else None,
        unit=unit,
        district=scope.district,
        street=street,
        category=category,
        overdue=overdue,
        open=open_orders,
        received_from=received_from,
        received_to=received_to,
        text=q,
        visible_to_unit=scope.unit,
        extension=extension,
    )
    if fmt == "csv":
        found = await store.list_rows(session=session, f=f, limit=limit, offset=offset, sort=sort)
        return csv_response(list_csv_rows(found, await directory.get()), LIST_CSV_COLUMNS, "appeals")
    rows, total, exact = await store.search(session=session, f=f, limit=limit, offset=offset, sort=sort)
    return AppealPage(items=[present(r) for r in rows], total=total, total_exact=exact, limit=limit, offset=offset)


#: The operators' queues (待办队列): what each holds, as `GET /appeals` parameters; each is worked
#: oldest first (`sort=oldest`), from the appeal page's offered actions.
QUEUES: dict[str, dict[str, str]] = {
    "held": {"status": "received"},  # recorded and held: dispatch or answer them
    "objections": {"status": "objection_raised"},  # jurisdiction objections to review
    "extensions": {"extension": "requested"},  # extension requests to review
    "return_visits": {"status": "awaiting_evaluation"},  # reported done: call the citizen back
    "answered": {"status": "answered"},  # answered on the spot: the citizen may still evaluate
}


class QueueOut(BaseModel):
    name: str
    count: int
    filter: dict[str, str] = Field(description="its appeals: `GET /appeals` with these parameters and sort=oldest")


@router.get("/queues", response_model=list[QueueOut])
async def queues(session: SessionDep, _: OperatorDep):
    """The operators' queues with how many appeals wait in each (one statement), and the
    `GET /appeals` parameters that list them: held orders, objections and extension requests to
    review, return visits due (and consultations answered on the spot, which the citizen may
    still evaluate)."""
    found = await store.counts(session=session, filters=[store.AppealFilter(**f) for f in QUEUES.values()])
    return [QueueOut(name=name, count=n, filter=f) for (name, f), n in zip(QUEUES.items(), found, strict=True)]


@router.get("/appeals/{appeal_no}", response_model=AppealOut)
async def get_appeal(appeal: VisibleAppeal):
    """Status, unit, every limit and whether it was met. Staff with a bearer token, or the
    citizen with the appeal's X-Citizen-Token."""
    return present(appeal.row)


class OfferedAction(BaseModel):
    name: str = Field(description="the workflow's Update")
    route: str = Field(description="the last segment of its path (`accept`, `co-handling`, ...)")
    path: str = Field(description="POST here, with a body of `body`'s shape")
    body: dict[str, Any] = Field(description="the JSON Schema of the body")
    part: str | None = Field(default=None, description="a part's action: the part (`co_handling:<unit>`, `whistle:<unit>`)")


@router.get("/appeals/{appeal_no}/actions", response_model=list[OfferedAction])
async def offered_actions(appeal: VisibleAppeal):
    """What the caller can do to the appeal now, by the rules the workflow checks (its action
    table): each action its role may take whose check passes or depends only on what is sent.
    A staff page offers these and no others; the citizen's token sees the evaluation when due."""
    row = appeal.row
    if row.seq == 0:  # the workflow has not said a word yet
        return []
    view, now = AppealView.model_validate(row.state), datetime.now(UTC)
    found = [
        OfferedAction(name=a.name, route=r.path, path=f"/appeals/{row.appeal_no}/{r.path}",
                      body=BODIES[r.path].model_json_schema())
        for a in offered(collaboration.ALL_ACTIONS, view, appeal.actor, now) for r in a.routes
    ]
    for key, part in view.parts.items():
        segment = "whistle" if part.kind is PartKind.WHISTLE else "co"
        for a in offered(part_rules.ACTIONS, part, appeal.actor, now):
            # a whistle's department reports in where a co-handling unit accepts
            route = "report-in" if a.name == "accept" and segment == "whistle" else a.routes[0].path
            found.append(OfferedAction(
                name=a.name, route=route, path=f"/appeals/{row.appeal_no}/{segment}/{part.unit}/{route}",
                body=BODIES[f"part/{route}"].model_json_schema(), part=key,
            ))
    return found


@router.get("/appeals/{appeal_no}/timeline", response_model=list[TimelineEntry])
async def get_timeline(appeal: VisibleAppeal, session: SessionDep):
    """Every event, with who did it. Citizens see the unit, not the staff member's name."""
    events = await store.timeline(session=session, appeal_no=appeal.row.appeal_no)
    staff_view = appeal.actor.role is not None
    return [
        TimelineEntry(
            seq=e.seq,
            kind=e.kind,
            at=e.occurred_at,
            actor=e.actor if staff_view or e.actor_role == "citizen" else None,
            actor_role=e.actor_role,
            unit=e.unit_code,
            detail=e.detail,
        )
        for e in events
    ]


# --- staff actions: one Update each --------------------------------------------------------

async def execute(workflow_id: str, update: Callable, cmd: BaseModel, row: Appeal, temporal, *, id: str | None = None):
    """Send one Update of an appeal's workflow or of one of its parts' (`api.temporal_calls`)."""
    return await send_update(
        temporal, workflow_id, update, cmd, status=_status_of(row),
        gone=("closed", "closed already: nothing more can be done"), id=id, rpc_timeout=UPDATE_RPC_TIMEOUT,
    )


def _status_of(row: Appeal) -> str:
    return (row.state or {}).get("status", row.status)


def body_model(input_type: type[BaseModel], fixed: dict | None = None, name: str | None = None) -> type[BaseModel]:
    """The request body of an action: its input without the actor (the token says who acts)
    and without the fields the route itself fixes; with the input's examples that fit the
    route (those naming a fixed field with the route's value, as a whistle's `kind`)."""
    fixed = fixed or {}
    skip = {"actor", *fixed}
    fields = {n: (f.annotation, f) for n, f in input_type.model_fields.items() if n not in skip}
    examples = [
        {k: v for k, v in example.items() if k not in skip}
        for example in (input_type.model_config.get("json_schema_extra") or {}).get("examples", [])
        if all(example[k] == getattr(v, "value", v) for k, v in fixed.items() if k in example)
    ]
    config = ConfigDict(json_schema_extra={"examples": examples}) if examples else None
    return create_model(name or input_type.__name__.removesuffix("Input") + "Body", __config__=config, **fields)


def body_param(model: type[BaseModel]):
    """The default of an action's body: required while the model has a required field; else
    the body may be left out (as Swagger UI does for an action with nothing to fill), and reads
    as `{}`."""
    return InBody(... if any(f.is_required() for f in model.model_fields.values()) else None)


@dataclass(frozen=True)
class Ready:
    """An action checked and made ready by its route's dependency, whose reads (the appeal, a
    lookup, the contact to scrub against) ran in their own session, given back before the
    route waits on the workflow (the pool is small)."""

    row: Appeal
    cmd: BaseModel  # the Update's input, with the actor
    id: str | None  # the Update's id (`api.idempotency.update_id`)


#: The body model of each action route, by its path segment (what `offered_actions` describes).
BODIES: dict[str, type[BaseModel]] = {}

#: (fields of the body, the appeal, the directory, the session) → fields to send; may raise ApiError
Prepare = Callable[[dict, Appeal, Directory, Any], Awaitable[dict]]


def add_action(router: APIRouter, action: Action, route: Route, *, prepare: Prepare | None = None) -> None:
    """POST /appeals/{no}/<route.path>: check who calls (the roles of the action's table entry),
    then send the workflow Update of the action's name."""
    path, fixed, roles = route.path, dict(route.fixed), action.roles
    input_type = action.input_type
    update = getattr(AppealWorkflow, action.name)
    Body = body_model(input_type, fixed, name=path.title().replace("-", "") + "Body")
    BODIES[path] = Body

    async def ready(
        appeal_no: str,
        reads: ReadsDep,
        settings: SettingsDep,
        directory: DirectoryDep,
        sealer: SealerDep,
        principal: OptionalPrincipal,
        token: CitizenToken = None,
        idempotency_key: IdempotencyKey = None,
        body: Body = body_param(Body),  # type: ignore[valid-type]
    ) -> Ready:
        body = Body() if body is None else body
        if principal is not None:
            if principal.role not in roles:
                raise ApiError(403, "forbidden", f"this needs the role {', '.join(r.value for r in roles)}")
        elif not action.citizen:
            raise ApiError(401, "unauthorized", "a bearer token is required (POST /auth/token)")
        async with reads() as session:
            seen = await appeal_for(appeal_no, session, principal, token, settings.secret_key)
            known = await directory.get()
            _check_units(body, known)
            fields = body.model_dump() | fixed
            if prepare is not None:
                fields = await prepare(fields, seen.row, known, session)
            fields = await scrubbed_for_appeal(
                fields, input_type, appeal_no=seen.row.appeal_no, session=session, sealer=sealer
            )
        return Ready(seen.row, input_type(actor=seen.actor, **fields), update_id(path, seen.actor, idempotency_key))

    async def take_action(ready: Ready, temporal: TemporalDep) -> AppealOut:
        return present(ready.row, await execute(ready.row.workflow_id, update, ready.cmd, ready.row, temporal, id=ready.id))

    ready.__annotations__["body"] = Body  # a local class: resolve the postponed annotation here
    take_action.__annotations__["ready"] = Annotated[Ready, Depends(ready)]
    take_action.__doc__ = route.doc or (update.__doc__ or "").strip()
    router.add_api_route(
        f"/appeals/{{appeal_no}}/{path}",
        take_action,
        methods=["POST"],
        response_model=AppealOut,
        responses=responses(*ACTION),
        name=path.replace("-", "_"),
        summary=path.replace("-", " "),
    )


def _check_units(body: BaseModel, directory: Directory) -> None:
    """Units named in a body must exist (422 naming the field), before the workflow sees them."""
    for field in ("unit", "suggested_unit", "new_unit", "units"):
        value = getattr(body, field, None)
        for code in value if isinstance(value, list) else [value]:
            if code is not None and code not in directory.units:
                raise ApiError(422, "validation_error", f"unknown unit {code!r}", [{"field": field}])


for _action in rules.ACTIONS.values():
    for _route in _action.routes:
        add_action(router, _action, _route)
