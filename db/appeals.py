"""Appeals in PostgreSQL: recording an intake (before its workflow starts), and reading the
projection for lists, detail and timeline."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import APPEAL_NO_SEQ, Appeal, AppealEvent, AppealPart, CitizenContact, PersonalDataAccess
from db.models.appeals import NEXT_DUE_SQL, OPEN_ORDER_SQL, UNITS_SQL
from db.session import session_factory
from domain.appeal import EXTENSION_REVIEW
from domain.calendar import CHINA_TZ
from domain.events import EventKind
from domain.messages import AppealInput, IntakeDecision


class IdempotencyConflict(Exception):
    """The Idempotency-Key was first used for a different request."""


@dataclass(frozen=True)
class ContactDetails:
    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    address: str | None = None
    anonymous: bool = False


@dataclass(frozen=True)
class IntakeDetails:
    """What PostgreSQL keeps and Temporal never sees."""

    content: str
    location_address: str | None
    latitude: float | None
    longitude: float | None
    attachments: list[str]
    contact: ContactDetails
    origin_hotline: str | None = None  # transferred in from the Tianjin or Hebei hotline
    origin_no: str | None = None


def fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def appeal_number(received_at: datetime, value: int) -> str:
    return f"BJ-{received_at.astimezone(CHINA_TZ):%Y%m%d}-{value:06d}"


async def record_intake(
    *,
    engine: AsyncEngine,
    build_input: Any,  # (appeal_no) -> AppealInput
    details: IntakeDetails,
    received_at: datetime,
    idempotency_key: str | None,
    request_fingerprint: str,
    also: Callable[[AsyncConnection, Appeal], Awaitable[None]] | None = None,
) -> tuple[Appeal, bool]:
    """Write the appeal row and its contact in one transaction. With a key already used, return
    the appeal it created (and False) instead of writing anything. The key is looked up in the
    same transaction, on the same connection. `also` writes what other layers keep of a new
    appeal (the API passes the analysts' topics and returns) in that same transaction."""
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            if idempotency_key is not None:
                existing = await _by_idempotency_key(session, idempotency_key)
                if existing is not None:
                    _same_request(existing, request_fingerprint)
                    return existing, False
            number = appeal_number(received_at, await session.scalar(APPEAL_NO_SEQ.next_value()))
            inp: AppealInput = build_input(number)
            appeal = Appeal(
                appeal_no=number,
                workflow_id=f"appeal-{number}",
                idempotency_key=idempotency_key,
                idempotency_fingerprint=request_fingerprint,
                status="received",
                channel=inp.channel.value,
                appeal_type=inp.appeal_type,
                category_code=inp.category,
                urgency=inp.urgency,
                district_code=inp.district,
                street_code=inp.street,
                # the unit the intake routed to, known from the start: it may see and act on
                # the order before the workflow first projects (which writes the same unit)
                handling_unit_code=routed_unit(inp),
                location_address=details.location_address,
                latitude=details.latitude,
                longitude=details.longitude,
                content=details.content,
                attachments=details.attachments,
                received_at=received_at,
                origin_hotline=details.origin_hotline,
                origin_no=details.origin_no,
                # until the workflow's first projection, the row keeps what starts it
                state={"intake": inp.model_dump(mode="json")},
            )
            session.add(appeal)
            await session.flush()
            session.add(CitizenContact(appeal_no=number, **details.contact.__dict__))
            if also is not None:
                await also(await session.connection(), appeal)
            await session.commit()
            return appeal, True
    except IntegrityError:
        if idempotency_key is None:
            raise
        existing = await find_by_idempotency_key(engine=engine, key=idempotency_key)  # lost a race
        if existing is None:
            raise
        _same_request(existing, request_fingerprint)
        return existing, False


def _same_request(existing: Appeal, request_fingerprint: str) -> None:
    if existing.idempotency_fingerprint != request_fingerprint:
        raise IdempotencyConflict(
            f"this Idempotency-Key was used for a different request (appeal {existing.appeal_no})"
        )


def routed_unit(inp: AppealInput) -> str | None:
    """The unit a dispatching intake sends the order to (named, or found in the catalogue)."""
    return inp.unit if inp.decision is IntakeDecision.DISPATCH else None


def intake_input(appeal: Appeal) -> AppealInput | None:
    """The workflow input recorded at intake, while the workflow has not projected yet."""
    intake = (appeal.state or {}).get("intake")
    return AppealInput.model_validate(intake) if intake is not None and appeal.seq == 0 else None


async def find_by_idempotency_key(*, engine: AsyncEngine, key: str) -> Appeal | None:
    async with session_factory(engine)() as session:
        return await _by_idempotency_key(session, key)


async def _by_idempotency_key(session: AsyncSession, key: str) -> Appeal | None:
    return (await session.exec(select(Appeal).where(Appeal.idempotency_key == key))).first()


async def unstarted(*, engine: AsyncEngine, older_than: datetime, limit: int = 100) -> list[Appeal]:
    """Intakes whose workflow never projected anything: the start may have been lost."""
    async with session_factory(engine)() as session:
        stmt = (
            select(Appeal)
            .where(Appeal.seq == 0, col(Appeal.created_at) < older_than)
            .order_by(Appeal.created_at)
            .limit(limit)
        )
        return list((await session.exec(stmt)).all())


async def open_unflagged(*, engine: AsyncEngine, appeal_nos: list[str]) -> list[str]:
    """Those of these appeals not closed yet and not yet flagged as having lost their workflow.
    Not closed, rather than open orders: a consultation answered on the spot is no open order,
    but its workflow should still be running (the citizen may evaluate it until the return
    visit window passes), so it is flagged like any other."""
    if not appeal_nos:
        return []
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT appeal_no FROM appeal WHERE appeal_no = ANY(:nos) AND status <> 'closed' "
                "AND workflow_ended IS NULL ORDER BY appeal_no"
            ),
            {"nos": appeal_nos},
        )
        return [r[0] for r in rows]


#: Flag an open appeal whose workflow ended, and say so on its timeline. No workflow runs to
#: project it, so this is the one timeline write outside a workflow: the event takes the next
#: `seq` (idem_key `<appeal>:<seq>`, as the projection would) and the row and its view move to
#: it, so a restarted run numbers its events after it. A row its workflow never projected (seq 0,
#: no view yet) is only flagged.
_MARK_ENDED = sa.text(
    """
    WITH target AS (
        SELECT appeal_no, seq, handling_unit_code FROM appeal
        WHERE appeal_no = :appeal_no AND status <> 'closed' AND workflow_ended IS NULL
        FOR UPDATE
    ), written AS (
        INSERT INTO appeal_event (idem_key, appeal_no, seq, kind, unit_code, detail, occurred_at)
        SELECT appeal_no || ':' || (seq + 1), appeal_no, seq + 1, :kind, handling_unit_code,
               :detail, :occurred_at
        FROM target WHERE seq > 0
        ON CONFLICT DO NOTHING
        RETURNING seq
    )
    UPDATE appeal a SET
        workflow_ended = :how,
        seq = coalesce((SELECT seq FROM written), a.seq),
        state = CASE WHEN EXISTS (SELECT FROM written)
                     THEN jsonb_set(a.state, '{seq}', to_jsonb((SELECT seq FROM written))) ELSE a.state END,
        updated_at = now()
    FROM target WHERE a.appeal_no = target.appeal_no
    RETURNING 1
    """
).bindparams(
    sa.bindparam("kind", EventKind.WORKFLOW_ENDED.value, type_=sa.String),
    sa.bindparam("detail", type_=JSONB),
    sa.bindparam("occurred_at", type_=sa.DateTime(timezone=True)),
)


async def mark_workflow_ended(
    *, engine: AsyncEngine, appeal_no: str, how: str, at: datetime, detail: dict[str, Any]
) -> bool:
    """Flag the appeal (still open, not flagged yet) and record a `workflow_ended` event. False
    if there was nothing to flag."""
    async with engine.begin() as conn:
        params = dict(appeal_no=appeal_no, how=how, occurred_at=at, detail={"how": how} | detail)
        return (await conn.execute(_MARK_ENDED, params)).first() is not None


async def get(*, session: AsyncSession, appeal_no: str) -> Appeal | None:
    return await session.get(Appeal, appeal_no)


async def contact(*, session: AsyncSession, appeal_no: str) -> CitizenContact | None:
    """The citizen's contact, sealed as stored."""
    return (await session.exec(select(CitizenContact).where(CitizenContact.appeal_no == appeal_no))).first()


async def rotate_citizen_token(*, session: AsyncSession, appeal_no: str) -> int:
    """Bump the appeal's citizen-token version (the old token stops working); the new version.
    The caller commits."""
    stmt = (
        sa.update(Appeal)
        .where(Appeal.appeal_no == appeal_no)
        .values(citizen_token_version=Appeal.citizen_token_version + 1)
        .returning(Appeal.citizen_token_version)
    )
    return (await session.exec(stmt)).scalar_one()


async def personal_data_views(
    *, session: AsyncSession, appeal_no: str | None, username: str | None, since: datetime | None, limit: int
) -> list[PersonalDataAccess]:
    """Views of unmasked personal data, newest first, filtered by whatever is given."""
    stmt = select(PersonalDataAccess)
    if appeal_no:
        stmt = stmt.where(PersonalDataAccess.appeal_no == appeal_no)
    if username:
        stmt = stmt.where(PersonalDataAccess.username == username)
    if since is not None:
        stmt = stmt.where(PersonalDataAccess.at >= since)
    return list((await session.exec(stmt.order_by(PersonalDataAccess.id.desc()).limit(limit))).all())


async def timeline(*, session: AsyncSession, appeal_no: str) -> list[AppealEvent]:
    stmt = select(AppealEvent).where(AppealEvent.appeal_no == appeal_no).order_by(AppealEvent.seq)
    return list((await session.exec(stmt)).all())


@dataclass(frozen=True)
class AppealFilter:
    status: str | None = None
    unit: str | None = None
    district: str | None = None
    street: str | None = None
    category: str | None = None
    overdue: bool | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    text: str | None = None
    visible_to_unit: str | None = None  # unit staff see what is or was dispatched to their unit
    supervision: bool = False  # open and overdue, under supervision, or its workflow ended; oldest first
    open: bool | None = None  # True: open orders only (OPEN_ORDER_STATUSES); False: the rest
    #: the extension request: `requested` (waiting for review: not reviewed yet, while the order
    #: is handled), `approved` or `rejected`
    extension: str | None = None


#: lists count what they find up to this many; past it, they say "more than" (a count of a
#: large unit's hundred thousand appeals at every page load is what made its list slow)
COUNT_CAP = 1000


def next_due() -> sa.ColumnElement:
    """The limit an appeal's unit works to now: the contact limit until the citizen is contacted,
    then the completion limit; none once done (awaiting the evaluation), answered, linked or
    closed. Whether a limit was met is in the projected view (`state.limits`)."""
    return sa.literal_column(NEXT_DUE_SQL, sa.DateTime(timezone=True))


async def search(
    *, session: AsyncSession, f: AppealFilter, limit: int, offset: int, sort: str = "newest"
) -> tuple[list[Appeal], int, bool]:
    """A page of the appeals `f` finds, how many it finds (counted up to COUNT_CAP), and whether
    that count is exact (False: more than COUNT_CAP). `sort`: `newest` received first, `oldest`
    received first (a queue worked in order), or `due`: the nearest unmet limit first
    (`next_due`), those without one last, newest first. Supervision lists are oldest first."""
    conditions = _conditions(f)
    capped = sa.select(Appeal.__table__.c.appeal_no).where(*conditions).limit(COUNT_CAP + 1).subquery()
    total = (await session.exec(select(func.count()).select_from(capped))).one()
    rows = await session.exec(select(Appeal).where(*conditions).order_by(*_order(f, sort)).offset(offset).limit(limit))
    return list(rows.all()), min(total, COUNT_CAP), total <= COUNT_CAP


#: What a list's CSV shows of each appeal (`list_rows`): the row's columns and the limits of its view.
LIST_COLUMNS = (
    "appeal_no", "status", "category_code", "district_code", "street_code", "handling_unit_code",
    "received_at", "overdue",
)


async def list_rows(
    *, session: AsyncSession, f: AppealFilter, limit: int, offset: int = 0, sort: str = "newest"
) -> list[sa.Row[Any]]:
    """The appeals `f` finds, in `search`'s order, as light rows: LIST_COLUMNS and `limits` (the
    view's, JSON), not whole rows with their stored view — what a CSV of thousands needs."""
    table = Appeal.__table__.c
    columns = [table[c] for c in LIST_COLUMNS] + [table.state["limits"].label("limits")]
    stmt = sa.select(*columns).where(*_conditions(f)).order_by(*_order(f, sort)).offset(offset).limit(limit)
    return list((await session.exec(stmt)).all())


def _order(f: AppealFilter, sort: str) -> tuple[Any, ...]:
    """Supervisors work oldest first (and a queue, `oldest`); everyone else sees the newest
    first, or (`due`) the nearest unmet limit first."""
    order: tuple[Any, ...] = (col(Appeal.received_at), col(Appeal.appeal_no))
    order = order if f.supervision or sort == "oldest" else tuple(c.desc() for c in order)
    if sort == "due" and not f.supervision:
        order = (sa.nulls_last(next_due().asc()), *order)
    return order


async def counts(*, session: AsyncSession, filters: list[AppealFilter]) -> list[int]:
    """How many appeals each filter finds, in one statement (a count per filter, each on its own
    index): what a page of several lists shows in its tabs."""
    each = [select(func.count()).select_from(Appeal).where(*_conditions(f)).scalar_subquery() for f in filters]
    if not each:
        return []
    return [int(n) for n in (await session.exec(select(*each))).one()]


def _value(value: str) -> Any:
    """A filter's code written into the statement: a unit's or a district's share of the appeals
    ranges from a few to a fifth, and a prepared statement's generic plan, which sees no values,
    chose one plan for all (a small unit's page read every one of a large unit's rows: 1 ms with
    the value, 130 ms without). Codes only, from the API's validated query; never free text."""
    return sa.literal(value, literal_execute=True)


def _conditions(f: AppealFilter) -> list[Any]:
    """The WHERE of a filter, as `search` and `counts` ask it."""
    conditions: list[Any] = []
    if f.status:
        conditions.append(Appeal.status == _value(f.status))
    if f.unit:
        conditions.append(Appeal.handling_unit_code == _value(f.unit))
    if f.district:
        conditions.append(Appeal.district_code == _value(f.district))
    if f.street:
        conditions.append(Appeal.street_code == _value(f.street))
    if f.category:
        conditions.append(
            or_(Appeal.category_code == _value(f.category), col(Appeal.category_code).startswith(f.category + "."))
        )
    if f.open is not None:
        conditions.append(_open_order() if f.open else sa.not_(_open_order()))
    if f.supervision:
        conditions.append(or_(Appeal.overdue, Appeal.supervised, col(Appeal.workflow_ended).is_not(None)))
        if not f.status:
            # what needs supervising now: open orders (closed ones only when asked for), and any
            # appeal whose workflow ended before closing it, an answered consultation's too
            # (nothing would ever close it until it is restarted or closed)
            ended = sa.and_(col(Appeal.workflow_ended).is_not(None), Appeal.status != "closed")
            conditions.append(or_(_open_order(), ended))
    if f.overdue is not None:
        conditions.append(Appeal.overdue == f.overdue)
    if f.extension:
        conditions.append(_extension_is(f.extension))
        if f.extension == "requested":
            conditions.append(col(Appeal.status).in_([s.value for s in EXTENSION_REVIEW]))
    if f.received_from:
        conditions.append(col(Appeal.received_at) >= f.received_from)
    if f.received_to:
        conditions.append(col(Appeal.received_at) < f.received_to)
    if f.text:
        pattern = "%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(col(Appeal.content).ilike(pattern), col(Appeal.appeal_no).ilike(pattern)))
    if f.visible_to_unit:
        # three arms, each on its own index (a bitmap OR, never a scan of the table): handling it
        # now, handled it before (the view's `units`: ix_appeal_units), or asked as a part
        # (ix_appeal_part_inbox, read first as a list of numbers)
        unit = _value(f.visible_to_unit)
        parts = sa.select(AppealPart.__table__.c.appeal_no).where(AppealPart.__table__.c.unit_code == unit)
        conditions.append(
            or_(
                Appeal.handling_unit_code == unit,
                sa.literal_column(UNITS_SQL, JSONB).contains(
                    sa.cast(sa.literal(json.dumps([f.visible_to_unit]), literal_execute=True), JSONB)
                ),
                Appeal.__table__.c.appeal_no == sa.func.any(sa.func.array(parts.scalar_subquery())),
            )
        )
    return conditions


#: the extension states an appeal's view records (`AppealView.extension`)
EXTENSION_STATES = ("requested", "approved", "rejected")


def _extension_is(state: str) -> Any:
    """The view's extension in this state. The value is written into the statement (one of
    three), so the planner matches the partial index of requests waiting for review
    (`ix_appeal_extension_requested`) whatever plan it caches."""
    if state not in EXTENSION_STATES:
        raise ValueError(f"unknown extension state {state!r}")
    return Appeal.__table__.c.state["extension"].astext == sa.literal(state, literal_execute=True)


@dataclass(frozen=True)
class SupervisionCount:
    """How many appeals of a filter's list one district's unit has, and of them how many are
    overdue, under supervision, escalated to the city (municipal supervision), or whose workflow
    ended while they were open."""

    district: str | None
    unit: str | None
    appeals: int
    overdue: int
    supervised: int
    escalated: int
    workflow_ended: int


async def supervision_counts(*, session: AsyncSession, f: AppealFilter) -> list[SupervisionCount]:
    """The appeals of a filter (a supervision list's) counted by district and handling unit:
    one grouped pass over what the list would show, never the rows."""
    a = Appeal.__table__.c
    stmt = (
        sa.select(
            a.district_code,
            a.handling_unit_code,
            func.count(),
            func.count().filter(a.overdue),
            func.count().filter(a.supervised),
            func.count().filter(a.supervision_level == "municipal"),
            func.count().filter(a.workflow_ended.is_not(None)),
        )
        .where(*_conditions(f))
        .group_by(a.district_code, a.handling_unit_code)
    )
    rows = (await session.exec(stmt)).all()  # type: ignore[call-overload]
    return [SupervisionCount(*row) for row in rows]


def _open_order() -> Any:
    """The SQL twin of `domain.messages.is_open_order`."""
    return sa.literal_column(OPEN_ORDER_SQL, sa.Boolean)


async def duplicate_candidates(
    *, session: AsyncSession, appeal: Appeal, within_days: int, limit: int = 20
) -> list[Appeal]:
    """Open appeals that look like the same matter: same category, same street (and same
    address when one is given), received within `within_days` before or after this one, the
    earliest first. Both ways, so that asked from either of two such appeals, each finds the
    other (the one received first may be the one being handled)."""
    window = timedelta(days=within_days)
    stmt = select(Appeal).where(
        Appeal.appeal_no != appeal.appeal_no,
        Appeal.category_code == appeal.category_code,
        Appeal.street_code == appeal.street_code,
        _open_order(),  # an answered consultation is not one to follow
        col(Appeal.received_at) >= appeal.received_at - window,
        col(Appeal.received_at) <= appeal.received_at + window,
    )
    if appeal.location_address:
        stmt = stmt.where(Appeal.location_address == appeal.location_address)
    rows = await session.exec(stmt.order_by(col(Appeal.received_at)).limit(limit))
    return list(rows.all())
