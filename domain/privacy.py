"""Personal data hidden in what staff and citizens type, before it is recorded.

A citizen's name, phone, ID number and address stay sealed in PostgreSQL (`db.pii`) and never
enter Temporal. Free text is the way round that: a contact note saying "已联系刘先生
13812345678", a result naming the address, a reporter's name in a comment. Whatever is typed into
an action's free text travels in the workflow's messages, its history and the timeline every
viewer of the appeal sees, so before it goes anywhere the appeal's own personal data is replaced
(verbatim, spaces and dashes ignored) and so is anything shaped like a mainland mobile number or a
resident ID number, whoever's it is. Office landlines, unit names and appeal numbers stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from annotated_types import MaxLen
from pydantic import BaseModel

NAME = "〔姓名〕"
PHONE = "〔电话〕"
ID_NUMBER = "〔证件号〕"
ADDRESS = "〔地址〕"

# 18-digit resident ID (GB 11643): area, birth date, sequence, check digit
_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)
# mainland mobile: 1[3-9] and nine more digits, written whole or grouped 3-4-4
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?![0-9])")
_SEPARATORS = r"[\s\-]*"

# The shortest value worth hiding verbatim: a one-character name would hide that character
# everywhere; a short address fragment ("1号") would hide half a sentence.
_SHORTEST = {"name": 2, "phone": 5, "id_number": 15, "address": 4}
_PLACEHOLDER = {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER, "address": ADDRESS}

# A string field at least this long is prose someone types; shorter ones are codes and names of
# units. `tests/domain/test_privacy.py` lists what this finds in every action, so a new field is
# classified on purpose.
FREE_TEXT_MIN_LENGTH = 200


@dataclass(frozen=True)
class Person:
    """The appeal's own personal data, opened from its sealed contact."""

    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    address: str | None = None


def _loose(value: str) -> re.Pattern[str]:
    """The value as written with or without spaces and dashes between its characters."""
    chars = [c for c in value if not c.isspace() and c != "-"]
    return re.compile(_SEPARATORS.join(re.escape(c) for c in chars), re.IGNORECASE)


def scrub(text: str, person: Person | None = None) -> str:
    """`text` with the person's data and any mobile or ID number replaced by placeholders."""
    if person is not None:
        # longest first: an address may contain the name of its street, a name may not
        values = [(getattr(person, f), f) for f in ("address", "id_number", "phone", "name")]
        for value, field in sorted(values, key=lambda v: -len(v[0] or "")):
            compact = "".join(c for c in value or "" if not c.isspace() and c != "-")
            if len(compact) >= _SHORTEST[field]:
                text = _loose(compact).sub(_PLACEHOLDER[field], text)
    text = _ID.sub(ID_NUMBER, text)
    return _MOBILE.sub(PHONE, text)


class TooLong(ValueError):
    """A placeholder is longer than what it hides (a two-character name, say) and the text no
    longer fits its field."""

    def __init__(self, field: str, limit: int) -> None:
        super().__init__(f"{field}: longer than {limit} characters once the personal data in it is hidden")
        self.field, self.limit = field, limit


def free_text_fields(model: type[BaseModel]) -> dict[str, int]:
    """The fields of an action's input that hold prose (strings of `FREE_TEXT_MIN_LENGTH` or
    more), with their limits."""
    found = {}
    for name, field in model.model_fields.items():
        limits = [m.max_length for m in field.metadata if isinstance(m, MaxLen)]
        if limits and limits[0] >= FREE_TEXT_MIN_LENGTH and _is_str(field.annotation):
            found[name] = limits[0]
    return found


def _is_str(annotation: Any) -> bool:
    return annotation is str or (getattr(annotation, "__args__", None) or ()) in ((str, type(None)),)


def has_free_text(fields: dict[str, Any], model: type[BaseModel]) -> bool:
    return any(isinstance(fields.get(name), str) and fields[name] for name in free_text_fields(model))


def scrub_fields(fields: dict[str, Any], model: type[BaseModel], person: Person | None) -> dict[str, Any]:
    """`fields` (an action's body) with every free-text field scrubbed; `TooLong` if one no
    longer fits."""
    out = dict(fields)
    for name, limit in free_text_fields(model).items():
        if isinstance(out.get(name), str):
            out[name] = scrub(out[name], person)
            if len(out[name]) > limit:
                raise TooLong(name, limit)
    return out
