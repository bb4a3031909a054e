"""Who may see one appeal, as a dependency: a route takes `VisibleAppeal` (or `StaffAppeal`)
and gets the appeal only if the caller may see it; anyone else gets the one 404, the same as
for an appeal that does not exist, so a caller never learns that it does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth import CitizenToken, CurrentPrincipal, Principal, citizen_token, optional_principal, same_secret
from api.deps import SessionDep, SettingsDep
from api.errors import ApiError, not_found
from db import appeals as store
from db.models import Appeal
from domain.messages import Actor
from domain.types import Role

OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def visible(row: Appeal, principal: Principal) -> bool:
    """May this staff member see the appeal? Unit staff: it is or was their unit's (or a part's);
    a district supervisor: it is the district's; everyone else: yes."""
    if principal.role is Role.UNIT_STAFF:
        state = row.state or {}
        parts = {p.get("unit") for p in state.get("parts", {}).values()}
        return principal.unit == row.handling_unit_code or principal.unit in state.get("units", []) or principal.unit in parts
    if principal.role is Role.SUPERVISOR and principal.district:
        return row.district_code == principal.district
    return True


@dataclass(frozen=True)
class Seen:
    """An appeal the caller may see, and who the caller acts as (staff, or the citizen)."""

    row: Appeal
    actor: Actor
    principal: Principal | None  # None: the citizen, by the appeal's token


async def appeal_for(
    appeal_no: str, session: AsyncSession, principal: Principal | None, token: str | None, secret: str
) -> Seen:
    """The appeal if the caller may see it (a 404 otherwise, never revealing that it exists)."""
    row = await store.get(session=session, appeal_no=appeal_no)
    if principal is not None:
        if row is None or not visible(row, principal):
            raise not_found("appeal", appeal_no)
        return Seen(row, principal.actor, principal)
    if token is None:
        raise ApiError(401, "unauthorized", "a bearer token or the appeal's X-Citizen-Token is required")
    if row is None or not same_secret(token, citizen_token(secret, row.appeal_no, row.citizen_token_version)):
        raise not_found("appeal", appeal_no)
    return Seen(row, Actor.citizen(), None)


async def _visible_appeal(
    appeal_no: str, session: SessionDep, settings: SettingsDep, principal: OptionalPrincipal, token: CitizenToken = None
) -> Seen:
    return await appeal_for(appeal_no, session, principal, token, settings.secret_key)


async def _staff_appeal(appeal_no: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal) -> Seen:
    return await appeal_for(appeal_no, session, principal, None, settings.secret_key)


#: The path's appeal, for staff with a bearer token or the citizen with its X-Citizen-Token.
VisibleAppeal = Annotated[Seen, Depends(_visible_appeal)]
#: The path's appeal, for staff only. A route that admits only some roles names its role
#: dependency (`OperatorDep`, ...) before this one, so a wrong role is a 403 before any lookup.
StaffAppeal = Annotated[Seen, Depends(_staff_appeal)]
