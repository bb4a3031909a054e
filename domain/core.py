"""Primitives shared by the rule modules: a refusal, a timeline event in the making, an alarm,
and the entry of an action table (one per workflow kind: what each staff action takes, who may
take it, its rules and its API paths)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.messages import Actor
from domain.types import Role


class Refused(Exception):
    """An action that the rules do not allow now. `code` tells the API which 4xx to answer;
    `field` names the input field at fault when the refusal is about one (the API puts it in
    the error's details, as it does for a malformed body)."""

    def __init__(self, reason: str, code: str = "wrong_state", field: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.code, self.field = reason, code, field


@dataclass
class Draft:
    """A timeline event before the workflow numbers it."""

    kind: str  # a `domain.events.EventKind` (a StrEnum: its string)
    actor: Actor | None = None
    unit: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Alarm:
    name: str  # "<limit>:reminder" | "<limit>:missed"
    at: datetime

    @property
    def limit(self) -> str:
        return self.name.split(":")[0]


#: How far a reminder may be put off at most. Reminders are advisory (the limits are legal and
#: never move), so each is spread over a window after its point, by a key of its own: orders
#: dispatched together (a morning's held orders, a batch) are reminded over half an hour instead
#: of in the same minute, a timer storm that would starve staff actions (docs/benchmarks.md).
REMINDER_SPREAD = timedelta(minutes=30)


def reminder_at(started_at: datetime, due: datetime, fraction: float, key: str | None = None) -> datetime:
    """When the reminder of a limit running from `started_at` to `due` fires: at `fraction` of
    it, or, given a `key` (the appeal's number or the part's workflow id: one offset for all its
    limits, so reminders due together still fire together, in one workflow task), up
    to REMINDER_SPREAD later and never past a fifth of the time then left, by where the key's
    CRC-32 falls (the same key always gives the same moment, on replay too)."""
    at = started_at + (due - started_at) * fraction
    if key is None:
        return at
    room = min(REMINDER_SPREAD, (due - at) / 5)
    share = zlib.crc32(key.encode()) / 2**32
    return at + timedelta(seconds=int(room.total_seconds() * share))


@dataclass(frozen=True)
class Route:
    """One API path of an action, `POST .../<path>`, and the input fields the route fixes (the
    caller does not send them). An action may have several (a co-handling request and a whistle
    are one workflow action)."""

    path: str
    fixed: Mapping[str, Any] = field(default_factory=dict)
    doc: str | None = None  # the route's description, when the workflow method's does not fit


@dataclass(frozen=True)
class Action:
    """One staff action of a workflow kind, declared once: the workflow's Update of this name
    (and its Signal twin `<name>_signal`) takes `input_type`; `check` refuses it or lets it
    through, `apply` does it; `roles` may take it (the API answers 403 to any other, and the
    check refuses it again); `citizen`: the citizen's token may take it too; `routes`: its API
    paths (none: not offered through the API, as a part's close, which only its appeal sends); `statuses`: where the rules can admit it, when
    that is one list (what an inbox offers next)."""

    name: str
    input_type: type
    check: Callable[..., Any]  # (subject, cmd, now, this action): raises Refused; may return what it found
    apply: Callable[..., Any]
    roles: tuple[Role, ...] = ()
    routes: tuple[Route, ...] = ()
    citizen: bool = False
    statuses: tuple[Any, ...] = ()
    #: the Signal twin's name (the same action, sent without waiting for an answer);
    #: `<name>_signal` unless told
    signal: str = ""

    def __post_init__(self) -> None:
        if not self.signal:
            object.__setattr__(self, "signal", f"{self.name}_signal")

    def require_role(self, actor: Actor) -> None:
        """Defence in depth: the API already answered 403 to another role."""
        if actor.role not in self.roles:
            names = ", ".join(r.value for r in self.roles)
            raise Refused(f"only {names} may do this", "forbidden")


def table(*actions: Action) -> dict[str, Action]:
    """An action table, by name, in the order given (the order the API lists them)."""
    return {a.name: a for a in actions}


class InputNeeded(Exception):
    """A check reached the action's input (`Probe`): the state admits the action, the input
    decides."""


class Probe:
    """An action's input not written yet: who acts, and nothing else. A check that reads any
    other field raises `InputNeeded`."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def __getattr__(self, name: str) -> Any:
        raise InputNeeded(name)


def offered(actions: Mapping[str, Action], subject: Any, actor: Actor, now: datetime) -> list[Action]:
    """The actions of a table that `actor` could take now on `subject`, by the table's own
    checks: those whose check passes, or fails only on an input field, or needs the input to
    decide. What a page offers is then what the workflow would accept (given good input).
    Actions with no API route (a part's close, sent by its appeal) are never offered."""
    found = []
    for action in actions.values():
        if not action.routes or not (actor.role in action.roles or (action.citizen and actor.role is None)):
            continue
        try:
            action.check(subject, Probe(actor), now, action)
        except InputNeeded:
            pass
        except Refused as refusal:
            if refusal.field is None:
                continue
        found.append(action)
    return found
