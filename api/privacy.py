"""Free text from staff and citizens, with personal data hidden before it is recorded
(`domain.privacy`): the appeal's own contact is opened from its seal to find it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from api.errors import ApiError
from db import appeals as store
from db.pii import FIELDS, Sealer
from domain.privacy import Person, TooLong, has_free_text, scrub_fields


def scrubbed(fields: dict[str, Any], model: type[BaseModel], person: Person | None) -> dict[str, Any]:
    """`fields` with their free text scrubbed; 422 naming the field that no longer fits."""
    try:
        return scrub_fields(fields, model, person)
    except TooLong as e:
        raise ApiError(422, "validation_error", str(e), [{"field": e.field, "message": str(e)}]) from None


async def scrubbed_for_appeal(
    fields: dict[str, Any], model: type[BaseModel], *, appeal_no: str, session: AsyncSession, sealer: Sealer
) -> dict[str, Any]:
    """`fields` of an action on this appeal, its citizen's data hidden: the contact is read only
    when there is text to scrub."""
    if not has_free_text(fields, model):
        return fields
    sealed = await store.contact(session=session, appeal_no=appeal_no)
    person = None if sealed is None else Person(**{f: sealer.open(getattr(sealed, f)) for f in FIELDS})
    return scrubbed(fields, model, person)
