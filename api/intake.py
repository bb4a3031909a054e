"""Intake (`POST /appeals`): validate against the reference data, record in PostgreSQL, start
the workflow. Personal data and the appeal's text go to PostgreSQL only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import delete
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from analytics.intake import intake_writes
from api.errors import ApiError
from api.privacy import scrubbed
from db import appeals as store
from db.models import Appeal, CitizenContact
from db.pii import FIELDS, Sealer
from db.reference import Directory
from db.session import session_scope
from domain import appeal as rules
from domain.messages import (
    TEXT,
    Actor,
    AppealInput,
    AppealView,
    EmergencyService,
    IntakeDecision,
    NotAcceptedReason,
)
from domain.privacy import Person
from domain.routing import NoRoute
from domain.types import AppealType, Channel, UnitKind, Urgency
from infra.appeals import start_appeal_with_view, workflow_id
from infra.temporal import unreachable
from settings import Settings

#: How long the intake waits for the workflow to say where the order went; after that it answers
#: with the order as recorded (status received, and the unit the intake routed it to).
INTAKE_WAIT = timedelta(seconds=10)

Code = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9.\-_]+$")]


class Location(BaseModel):
    district: Annotated[str, StringConstraints(pattern=r"^\d{6}$")] | None = None
    street: Code | None = None
    address: str | None = Field(default=None, max_length=300, description="where the problem is")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class CitizenIn(BaseModel):
    """The appellant. Kept in PostgreSQL only; never in Temporal."""

    name: str | None = Field(default=None, max_length=100)
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9\- ]{5,20}$")] | None = None
    id_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{17}[0-9Xx]$")] | None = None
    address: str | None = Field(default=None, max_length=300)
    anonymous: bool = False


class Origin(BaseModel):
    """Where an appeal transferred in comes from (京津冀 linkage)."""

    hotline: Annotated[str, StringConstraints(pattern=r"^(tianjin|hebei)$")]
    external_no: str = Field(min_length=1, max_length=64, description="its number at that hotline")


class AppealCreate(BaseModel):
    # the seed stories: the street lights of 方家胡同 (dispatched by the catalogue to the city
    # lighting centre), the dead-end road of 亚运村 (to its street), a consultation answered at once
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "appeal_type": "complaint",
                    "category": "MUNI.STREETLIGHT",
                    "location": {"street": "110101-ANDINGMEN", "address": "方家胡同"},
                    "content": "胡同里路灯昏暗，晚上经常有人摔跤",
                    "citizen": {"name": "刘先生", "phone": "13812345678", "address": "东城区方家胡同 12 号"},
                },
                {
                    "appeal_type": "help",
                    "category": "MUNI.DEADENDROAD",
                    "location": {"street": "110105-YAYUNCUN", "address": "北辰西路"},
                    "content": "北辰西路断头路十二年未通，居民绕行两公里",
                    "citizen": {"name": "黄女士", "phone": "13900001111"},
                },
                {
                    "channel": "phone",
                    "appeal_type": "consultation",
                    "category": "UTIL.HEAT",
                    "location": {"district": "110105"},
                    "content": "今年什么时候开始供暖？",
                    "decision": "answer",
                    "answer": "供暖季为每年11月15日至次年3月15日",
                },
            ]
        }
    )

    channel: Channel = Channel.PHONE
    appeal_type: AppealType
    category: Code
    urgency: Urgency | None = Field(default=None, description="default: the category's")
    location: Location = Field(default_factory=Location)
    content: str = Field(min_length=1, max_length=5000)
    attachments: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=20, description="references to stored files"
    )
    citizen: CitizenIn = Field(default_factory=CitizenIn)
    decision: IntakeDecision = IntakeDecision.DISPATCH
    unit: Code | None = Field(default=None, description="dispatch to this unit instead of by the catalogue")
    answer: str | None = Field(default=None, max_length=TEXT, description="for decision=answer")
    not_accepted_reason: NotAcceptedReason | None = None
    emergency_service: EmergencyService | None = None
    origin: Origin | None = Field(default=None, description="required with channel=transfer_in")


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", message, [{"field": field, "message": message}])


def display_names(
    directory: Directory, category: str, district: str | None, street: str | None, unit: str | None
) -> dict[str, str]:
    """The Chinese names of the codes the workflow starts with (category, district, street,
    unit), for what the Temporal UI shows; the workflow has no directory. A district is named
    by its government without "人民政府" (东城区)."""
    names: dict[str, str] = {}
    found = directory.categories.get(category)
    if found is not None and found.name_zh:
        names[category] = found.name_zh
    government = directory.units.get(directory.backstops.get(district, "")) if district else None
    if district and government is not None and government.name_zh:
        names[district] = government.name_zh.removesuffix("人民政府")
    for code in (street, unit):
        facts = directory.units.get(code) if code else None
        if code and facts is not None and facts.name_zh:
            names[code] = facts.name_zh
    return names


async def take_intake(
    body: AppealCreate,
    *,
    engine: AsyncEngine,
    directory: Directory,
    sealer: Sealer,
    operator: Actor,
    idempotency_key: str | None,
) -> tuple[Appeal, AppealInput, bool]:
    """Check the body against the reference data and record it (or find the earlier record)."""
    category = directory.categories.get(body.category)
    if category is None:
        raise _invalid("category", f"unknown category {body.category!r}")
    district, street = body.location.district, body.location.street
    if district is not None and directory.backstops.get(district) is None:
        raise _invalid("location.district", f"unknown district {district!r}")
    if street is not None:
        unit = directory.units.get(street)
        if unit is None or unit.kind not in (UnitKind.STREET, UnitKind.TOWNSHIP):
            raise _invalid("location.street", f"unknown street or township {street!r}")
        if district is not None and unit.district != district:
            raise _invalid("location.street", f"{street} is not in district {district}")
        district = unit.district
    if (body.channel is Channel.TRANSFER_IN) != (body.origin is not None):
        raise _invalid("origin", "an appeal transferred in (channel transfer_in) gives its origin, and only it")
    if body.unit is not None and body.unit not in directory.units:
        raise _invalid("unit", f"unknown unit {body.unit!r}")
    urgency = body.urgency or category.default_urgency
    unit, from_catalogue = body.unit, False  # as the operator sent it, until it is checked
    received_at = datetime.now(UTC)
    person = Person(**{f: getattr(body.citizen, f) for f in FIELDS})
    answer = scrubbed({"answer": body.answer}, AppealInput, person)["answer"] if body.answer else None

    def build(appeal_no: str) -> AppealInput:
        return AppealInput(
            appeal_no=appeal_no,
            channel=body.channel,
            appeal_type=body.appeal_type,
            category=body.category,
            urgency=urgency,
            district=district,
            street=street,
            received_at=received_at,
            decision=body.decision,
            unit=unit,
            unit_from_catalogue=from_catalogue,
            not_accepted_reason=body.not_accepted_reason,
            emergency_service=body.emergency_service,
            answer=answer,
            operator=operator,
            names=display_names(directory, body.category, district, street, unit),
        )

    try:
        rules.validate_intake(build("BJ-CHECK"))
    except rules.Refused as e:
        # the body's name of the field the rule names (the district sits in `location`)
        field = {"district": "location.district"}.get(e.field, e.field) or "decision"
        raise _invalid(field, e.reason) from e
    if body.decision is IntakeDecision.DISPATCH and unit is None:
        # the catalogue is at hand here, so the workflow starts knowing its unit (should no rule
        # apply, the workflow asks the catalogue itself and holds the order if it finds none)
        try:
            unit = directory.route(category=body.category, district=district, street=street).unit
            from_catalogue = True
        except NoRoute:
            pass
    details = store.IntakeDetails(
        content=body.content,
        location_address=body.location.address,
        latitude=body.location.latitude,
        longitude=body.location.longitude,
        attachments=list(body.attachments),
        contact=store.ContactDetails(
            **{f: sealer.seal(v) if f in FIELDS else v for f, v in body.citizen.model_dump().items()}
        ),
        origin_hotline=body.origin.hotline if body.origin else None,
        origin_no=body.origin.external_no if body.origin else None,
    )
    try:
        row, created = await store.record_intake(
            engine=engine,
            build_input=build,
            details=details,
            received_at=received_at,
            idempotency_key=idempotency_key,
            request_fingerprint=store.fingerprint(body.model_dump(mode="json")),
            also=await intake_writes(body.content),
        )
    except store.IdempotencyConflict as e:
        raise ApiError(409, "idempotency_conflict", str(e)) from e
    inp = store.intake_input(row) or build(row.appeal_no)
    return row, inp, created


async def start_appeal(
    client: Client, settings: Settings, row: Appeal, inp: AppealInput, *, compensate: bool, engine: AsyncEngine
) -> AppealView | None:
    """Start the workflow. If Temporal cannot be reached, an intake sent without an
    Idempotency-Key is removed again (nothing half-written; the operator retries), while one sent
    with a key stays for the retry with that key (or the reconciler) to start."""
    if row.seq > 0:
        return None  # the workflow has already run: the row says where it stands
    try:
        return await start_appeal_with_view(client, settings.temporal_task_queue, inp, rpc_timeout=INTAKE_WAIT)
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        return None  # started; the worker is slow to answer: the order moves on its own
    except (RPCError, RuntimeError) as e:
        if not unreachable(e):
            raise
        reason = getattr(e, "message", str(e))
        if compensate and not await _may_have_started(client, row.appeal_no):
            async with session_scope(engine) as session:
                await session.exec(delete(CitizenContact).where(CitizenContact.appeal_no == row.appeal_no))
                await session.exec(delete(Appeal).where(Appeal.appeal_no == row.appeal_no))
            raise ApiError(503, "temporal_unavailable", f"Temporal is unavailable; nothing was recorded: {reason}") from e
        raise ApiError(
            503,
            "temporal_unavailable",
            f"the appeal {row.appeal_no} is recorded but its workflow could not be confirmed: "
            + ("retry with the same Idempotency-Key" if not compensate else
               "it starts on its own within a minute (do not record it again)"),
            {"appeal_no": row.appeal_no},
        ) from e


async def _may_have_started(client: Client, appeal_no: str) -> bool:
    """After a failed start: does the workflow exist after all (or can we not tell)? Then the
    row must stay, for the workflow to project into and for the reconciler to finish."""
    try:
        await client.get_workflow_handle(workflow_id(appeal_no)).describe()
        return True
    except RPCError as e:
        return e.status != RPCStatusCode.NOT_FOUND
    except RuntimeError:  # the client never connected: nothing was started
        return False
