"""The citizen's contact details, for whoever must reach them, and only them.

- the hotline's operators and administrators see them in full;
- the staff of the unit holding the order see them in full while it is open, so they can
  contact the citizen — except for a report (举报): a whistle-blower's identity never reaches a
  unit; the hotline relays;
- everyone else who may see the appeal sees them masked (`138****5678`).
Every view of unmasked data is written to `personal_data_access` (who, when, which appeal).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.auth import OperatorDep, Principal, citizen_token, require
from api.deps import SealerDep, SessionDep, SettingsDep, WriteSessionDep
from api.error_codes import responses
from api.errors import ApiError
from api.visible import StaffAppeal, VisibleAppeal
from db import appeals as store
from db.models import CitizenContact, PersonalDataAccess
from db.pii import FIELDS
from domain.messages import is_open_order
from domain.types import AppealType, Role

router = APIRouter(
    tags=["appeals"], responses=responses("not_found", not_found="the appeal is unknown, or not one the caller may see")
)


class ContactOut(BaseModel):
    name: str | None
    phone: str | None
    id_number: str | None
    address: str | None
    anonymous: bool
    masked: bool


def mask(value: str | None, keep_start: int, keep_end: int) -> str | None:
    if not value:
        return value
    if len(value) <= keep_start + keep_end:
        return value[:1] + "*" * (len(value) - 1)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end :]


def masked(contact: CitizenContact) -> ContactOut:
    return ContactOut(
        name=mask(contact.name, 1, 0),
        phone=mask(contact.phone, 3, 4),
        id_number=mask(contact.id_number, 4, 4),
        address=mask(contact.address, 3, 0),
        anonymous=contact.anonymous,
        masked=True,
    )


@router.get(
    "/appeals/{appeal_no}/contact",
    response_model=ContactOut,
    responses=responses(
        "forbidden",
        "not_found",
        forbidden="a reporter's (举报) identity, asked by a unit: the hotline relays",
        not_found="the appeal is unknown or not visible, or it has no contact recorded",
    ),
)
async def get_contact(appeal: VisibleAppeal, session: SessionDep, audit: WriteSessionDep, sealer: SealerDep):
    """How to reach the citizen: in full for the hotline and for the unit holding the open
    order (audited), masked for everyone else; never a reporter's identity to a unit."""
    row, principal = appeal.row, appeal.principal
    sealed = await store.contact(session=session, appeal_no=row.appeal_no)
    if sealed is None:
        raise ApiError(404, "not_found", "no contact recorded for this appeal")
    contact = sealed.model_copy(update={f: sealer.open(getattr(sealed, f)) for f in FIELDS})
    if principal is None:
        return masked(contact)
    holder = principal.role is Role.UNIT_STAFF and principal.unit == row.handling_unit_code and is_open_order(row.status)
    if principal.role is Role.UNIT_STAFF and row.appeal_type == AppealType.REPORT:
        raise ApiError(
            403, "forbidden", "a reporter's identity is never shown to a unit: the hotline relays (举报人保护)"
        )
    if principal.role in (Role.OPERATOR, Role.ADMINISTRATOR) or holder:
        audit.add(
            PersonalDataAccess(
                appeal_no=row.appeal_no,
                username=principal.username,
                role=principal.role.value,
                unit_code=principal.unit,
                purpose="view contact",
            )
        )
        await audit.commit()
        return ContactOut(**contact.model_dump(include={"name", "phone", "id_number", "address", "anonymous"}), masked=False)
    return masked(contact)


class CitizenTokenOut(BaseModel):
    appeal_no: str
    citizen_token: str


@router.post("/appeals/{appeal_no}/citizen-token", response_model=CitizenTokenOut)
async def rotate_citizen_token(
    tx: WriteSessionDep, settings: SettingsDep, _: OperatorDep, appeal: StaffAppeal  # the role first: a 403 before the lookup
):
    """A new access token for the citizen (e.g. the old one was shared by mistake); the old one
    stops working at once."""
    appeal_no = appeal.row.appeal_no
    version = await store.rotate_citizen_token(session=tx, appeal_no=appeal_no)
    await tx.commit()
    return CitizenTokenOut(appeal_no=appeal_no, citizen_token=citizen_token(settings.secret_key, appeal_no, version))


class AccessOut(BaseModel):
    appeal_no: str
    username: str
    role: str
    unit_code: str | None
    purpose: str
    at: datetime


@router.get("/audit/personal-data", response_model=list[AccessOut], tags=["audit"])
async def personal_data_views(
    session: SessionDep,
    principal: Principal = require(Role.ADMINISTRATOR),
    appeal_no: Annotated[str | None, Query(max_length=32)] = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
):
    """Who saw which citizen's unmasked personal data, and when (newest first)."""
    if since is not None and since.tzinfo is None:
        raise ApiError(422, "validation_error", "'from' needs a timezone", [{"field": "from"}])
    rows = await store.personal_data_views(session=session, appeal_no=appeal_no, username=username, since=since,
                                           limit=limit)
    return [AccessOut.model_validate(r, from_attributes=True) for r in rows]
