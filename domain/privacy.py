"""Personal data hidden in what staff and citizens type, before it is recorded.

A citizen's name, phone, ID number and address stay sealed in PostgreSQL (`db.pii`) and never
enter Temporal. Free text is the way round that: a contact note saying "已联系刘先生
13812345678", a result naming the address, a reporter's name in a comment. Whatever is typed into
an action's free text travels in the workflow's messages, its history and the timeline every
viewer of the appeal sees, so before it goes anywhere the appeal's own personal data is replaced
(verbatim) and so is anything shaped like a mainland mobile number or a resident ID number,
whoever's it is. Office landlines, unit names, appeal numbers, dates and amounts stay.

Numbers are written every which way: full-width digits from a Chinese keyboard (`１３９…`),
grouped by spaces, dots, dashes or parentheses (`139.1234.5678`, `(139)1234-5678`,
`139 12 34 56 78`), after `+86`. So matching runs on the text normalised character by character
(Unicode NFKC, case folded), with separators allowed between any two characters of what is
sought, and each match is mapped back to the characters of the text as written: only those are
replaced, the rest is kept as typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from annotated_types import MaxLen
from pydantic import BaseModel

from domain.core import Refused

NAME = "〔姓名〕"
PHONE = "〔电话〕"
ID_NUMBER = "〔证件号〕"
ADDRESS = "〔地址〕"

# What may stand between the digits of one number (after NFKC, which turns full-width （）－．
# and the ideographic space into ASCII): spaces, dots, dashes, brackets, middle dots. Not commas
# or slashes: "1,380 元" and "2026/11/22" are separate numbers. At most three in a row, so
# "139 - 1234" is one number and two numbers far apart are not.
_SEP_CHARS = r"\s.\-‐‑‒–—―−·・()\[\]【】。"
_SEP = f"[{_SEP_CHARS}]{{0,3}}"
_IS_SEP = re.compile(f"[{_SEP_CHARS}]")


def _spaced(*atoms: str) -> str:
    """The atoms in order, separators allowed between them."""
    return _SEP.join(atoms)


def _either(*choices: str) -> str:
    return "(?:" + "|".join(choices) + ")"


_D = "[0-9]"
# 18-digit resident ID (GB 11643): area, birth date (18xx-20xx), sequence, check digit
_ID = re.compile(
    "(?<![0-9A-Za-z])"
    + _spaced(
        "[1-9]", *[_D] * 5,
        _either(_spaced("1", "[89]"), _spaced("2", "0")), _D, _D,
        _either(_spaced("0", "[1-9]"), _spaced("1", "[0-2]")),
        _either(_spaced("0", "[1-9]"), _spaced("[12]", _D), _spaced("3", "[01]")),
        *[_D] * 3, "[0-9Xx]",
    )
    + "(?![0-9A-Za-z])"
)
# mainland mobile: 1[3-9] and nine more digits, after +86 / 0086 or not, with an opening bracket
# taken in when its closing one is ("(139)1234 5678", but "刘先生（13912345678）" keeps both).
# A number is not found inside a longer run of digits written together ("BJ-20261122-000123",
# "010-64001234"): it starts where no digit stands right before.
_OPENING = r"(?:[(\[【]\s?)?"
_MOBILE = re.compile(
    r"(?<![0-9])" + _OPENING
    + "(?:" + _either(r"\+\s?", "00") + _spaced("8", "6") + _SEP + ")?"
    + _spaced("1", "[3-9]", *[_D] * 9)
    + "(?![0-9])"
)

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


def _fold(char: str) -> str:
    return unicodedata.normalize("NFKC", char).casefold()


def _normalised(text: str) -> tuple[str, list[int]]:
    """`text` normalised character by character, and for each character of the result the
    position in `text` it came from (one character may become several: "⑴" is "(1)")."""
    chars, origin = [], []
    for i, char in enumerate(text):
        for folded in _fold(char):
            chars.append(folded)
            origin.append(i)
    return "".join(chars), origin


def _verbatim(field: str, value: str) -> tuple[str, re.Pattern[str]]:
    """The value without its separators, and a pattern finding it written with any (a phone
    with the bracket of its area code: "(010)6512 3456")."""
    compact = "".join(c for c in _fold(value) if not _IS_SEP.match(c))
    opening = _OPENING if field == "phone" else ""
    return compact, re.compile(opening + _spaced(*(re.escape(c) for c in compact)))


Span = tuple[int, int, str]  # start, end in the normalised text, placeholder


def _bracketed(match: re.Match[str], placeholder: str) -> Span:
    """The match, without an opening bracket whose closing one is outside it."""
    start, text = match.start(), match.group()
    if text[:1] in "([【" and not any(c in text for c in ")]】"):
        start += 1 + (text[1:2].isspace())
    return start, match.end(), placeholder


def _spans(norm: str, person: Person | None) -> list[Span]:
    """Where personal data is in the normalised text, leftmost first and, of overlapping ones,
    the longest (an address may contain the name of its street; "+86" belongs to the number)."""
    found: list[Span] = []
    if person is not None:
        for field, placeholder in _PLACEHOLDER.items():
            compact, pattern = _verbatim(field, getattr(person, field) or "")
            if len(compact) >= _SHORTEST[field]:
                found += [_bracketed(m, placeholder) for m in pattern.finditer(norm)]
    found += [_bracketed(m, ID_NUMBER) for m in _ID.finditer(norm)]
    found += [_bracketed(m, PHONE) for m in _MOBILE.finditer(norm)]
    kept: list[Span] = []
    for span in sorted(found, key=lambda s: (s[0], -s[1])):
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def scrub(text: str, person: Person | None = None) -> str:
    """`text` with the person's data and any mobile or ID number replaced by placeholders; the
    rest exactly as written."""
    norm, origin = _normalised(text)
    out, at = [], 0
    for start, end, placeholder in _spans(norm, person):
        first, last = origin[start], origin[end - 1] + 1
        if first < at:  # two matches within one original character: it is already hidden
            continue
        out += [text[at:first], placeholder]
        at = last
    out.append(text[at:])
    return "".join(out)


def has_phone_or_id(text: str) -> bool:
    """Whether `text` holds anything shaped like a mobile or resident ID number (what `scrub`
    would hide without knowing whose it is)."""
    return bool(_spans(_normalised(text)[0], None))


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


def fields_with_phone_or_id(cmd: BaseModel) -> list[str]:
    """The free-text fields of an action's input that hold a mobile or ID number: text that has
    not been through `scrub` (the API scrubs all it sends, so from it this is always empty)."""
    return [
        name
        for name in free_text_fields(type(cmd))
        if isinstance(getattr(cmd, name, None), str) and has_phone_or_id(getattr(cmd, name))
    ]


def refuse_phone_or_id(cmd: BaseModel) -> None:
    """`Refused` if free text of `cmd` holds a mobile or ID number. For messages that did not
    come through the API (a signal sent with the Temporal CLI or UI): the reason names the
    fields, never what is in them, since it is recorded on the timeline."""
    fields = fields_with_phone_or_id(cmd)
    if fields:
        raise Refused(
            f"{', '.join(fields)}: holds what looks like a phone or ID number; "
            "send it through the API, which hides personal data",
            "invalid",
            fields[0] if len(fields) == 1 else None,
        )
