"""Every length an action accepts fits the column it lands in, so no input can make PostgreSQL
refuse an appeal's projection.

Nothing here is listed by hand: the actions are the workflows' own Updates and Signals, each
input is filled to the longest value its model accepts, applied through the domain's rules (the
code the workflows run), and what the projection would write (`activities.appeals.projection_params`,
whose keys are the tables' column names) is measured against the columns' declared lengths."""

from __future__ import annotations

import re
import typing
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

import annotated_types
import pytest
from pydantic import BaseModel
from sqlmodel import SQLModel
from temporalio import workflow

import db.models  # noqa: F401  (the tables)
from activities.appeals import ProjectionInput, projection_params
from domain import collaboration as appeal_rules
from domain import parts as part_rules
from domain.messages import (
    AppealStatus,
    AppealView,
    Limit,
    Objection,
    PartActionInput,
    PartKind,
    PartStatus,
    PartView,
    PolicyTerms,
    Terms,
    part_key,
    part_workflow_id,
)
from domain.types import LimitUnit, Urgency
from worker import WORKFLOWS
from workflows.appeal import numbered
from workflows.cohandling import CoHandlingWorkflow

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
#: messages a workflow sends another (not staff actions): their text comes from the fields below
INTERNAL = {"part_changed", "follower_linked", "master_released", "master_done", "inspection_due", "close"}


def _definitions(cls) -> Any:
    return workflow._Definition.from_class(cls)


def staff_actions() -> list[tuple[str, str, type[BaseModel]]]:
    """(workflow, message, input type) of every Update and Signal a person may send."""
    found = []
    for cls in WORKFLOWS:
        d = _definitions(cls)
        for name, definition in [*d.updates.items(), *d.signals.items()]:
            if name in INTERNAL or name.startswith("__") or not definition.arg_types:
                continue
            found.append((cls.__name__, name, definition.arg_types[0]))
    return found


# --- every string a person may send has a bound ------------------------------------------------


def _unbounded(model: type[BaseModel], path: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        out += _unbounded_type(field.annotation, field.metadata, f"{path}{name}")
    return out


def _unbounded_type(annotation: Any, metadata: list, path: str) -> list[str]:
    args, origin = typing.get_args(annotation), typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unbounded_type(args[0], [*metadata, *args[1:]], path)
    if origin is list:  # the list's own bound is on its length; each item needs its own
        return _unbounded_type(args[0], [], path + "[]")
    if origin in (typing.Union, type(int | None)):
        return [p for a in args if a is not type(None) for p in _unbounded_type(a, metadata, path)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _unbounded(annotation, path + ".")
    if annotation is str:
        bounded = any(getattr(m, "max_length", None) for m in metadata) or any(
            re.fullmatch(r"\^\([\w|]+\)\$", str(getattr(m, "pattern", "") or "")) for m in metadata
        )
        return [] if bounded else [path]
    return []


@pytest.mark.parametrize("action", staff_actions(), ids=lambda a: f"{a[0]}.{a[1]}" if isinstance(a, tuple) else str(a))
def test_every_string_an_action_takes_has_a_bound(action):
    _, _, input_type = action
    assert _unbounded(input_type) == [], f"strings without a length limit in {input_type.__name__}"


# --- the longest input, applied and projected, fits every column --------------------------------


def _longest(annotation: Any, metadata: list) -> Any:
    """The longest value `annotation` (with its constraints) accepts."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _longest(args[0], [*metadata, *args[1:]])
    if origin in (typing.Union, type(int | None)):
        return _longest(next(a for a in args if a is not type(None)), metadata)
    if origin is list:
        return [_longest(args[0], [])]  # one item at its longest: a list's items are bounded each
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return list(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return longest(annotation)
    if annotation is str:
        limit = max((m.max_length for m in metadata if isinstance(m, annotated_types.MaxLen)), default=None)
        pattern = next((str(m.pattern) for m in metadata if getattr(m, "pattern", None)), None)
        if limit is None and pattern:
            return max(re.fullmatch(r"\^\(([\w|]+)\)\$", pattern).group(1).split("|"), key=len)
        return "字" * (limit or 0)
    if annotation is bool:
        return True
    if annotation is int:
        return max((m.le for m in metadata if isinstance(m, annotated_types.Le)), default=1)
    if annotation is datetime:
        return NOW + timedelta(days=1)
    if annotation is date:
        return (NOW + timedelta(days=1)).date()
    return None


def longest(model: type[BaseModel]) -> Any:
    return model.model_construct(**{n: _longest(f.annotation, list(f.metadata)) for n, f in model.model_fields.items()})


def _terms() -> Terms:
    return Terms(policies=[
        PolicyTerms(urgency=u, contact_limit=1, contact_limit_unit=LimitUnit.DAYS, completion_limit=7,
                    completion_limit_unit=LimitUnit.DAYS, objection_window=1, objection_window_unit=LimitUnit.DAYS,
                    return_visit_window=5, return_visit_window_unit=LimitUnit.DAYS)
        for u in Urgency
    ])


def _part(kind: PartKind, unit: str, **changes) -> PartView:
    return PartView(kind=kind, unit=unit, workflow_id=part_workflow_id("BJ-20261202-000001", kind, unit), task="t",
                    requested_at=NOW, due=NOW + timedelta(days=3), **changes)


def _view(units: set[str]) -> AppealView:
    """An appeal with everything an action may look at: limits, an objection, parts of every
    unit the actions name."""
    limit = Limit(started_at=NOW, due=NOW + timedelta(days=1))
    view = AppealView(
        appeal_no="BJ-20261202-000001", appeal_type="complaint", category="MUNI.STREETLIGHT", urgency="ordinary",
        channel="phone", district="110101", street="110101-ANDINGMEN", received_at=NOW,
        status=AppealStatus.ACCEPTED, handling_unit="BJ-LIGHTING", units=["BJ-LIGHTING"], dispatched_at=NOW,
        limits={n: limit.model_copy() for n in ("objection", "contact", "completion", "return_visit")},
        objection=Objection(unit="BJ-LIGHTING", reason="r", suggested_unit="BJ-WATER", raised_at=NOW),
    )
    for unit in units:
        for kind in PartKind:
            view.parts[part_key(kind, unit)] = _part(kind, unit)
    return view


def _units(value: Any) -> set[str]:
    found = set()
    for name, field_value in (value if isinstance(value, dict) else dict(value)).items():
        if name in ("unit", "units") and field_value:
            found |= set(field_value if isinstance(field_value, list) else [field_value])
    return found


def overflows(inp: ProjectionInput) -> list[str]:
    """Every value the projection would write that is longer than its column."""
    params = projection_params(inp)
    tables = SQLModel.metadata.tables
    rows = [("appeal", params)] + [
        (table, row) for table, key in (("appeal_event", "events"), ("notification_outbox", "notifications"),
                                        ("appeal_part", "parts"))
        for row in params[key]
    ]
    found = []
    for table, row in rows:
        columns = tables[table].c
        nested = {"events", "notifications", "parts"} if table == "appeal" else set()
        unknown = set(row) - set(columns.keys()) - nested
        assert not unknown, f"the projection writes {table}.{unknown}, which are not columns"
        for key, value in row.items():
            length = getattr(columns[key].type, "length", None) if key in columns else None
            if length and isinstance(value, str) and len(value) > length:
                found.append(f"{table}.{key}: {len(value)} characters, the column holds {length}")
    return found


def _projected(view: AppealView, drafts) -> ProjectionInput:
    events, notices = numbered(view, drafts, NOW)
    return ProjectionInput(view=view, events=events, notifications=notices)


APPEAL_ACTIONS = {name: t for w, name, t in staff_actions() if w == "AppealWorkflow" and not name.endswith("_signal")}
PART_ACTIONS = [(name, t) for w, name, t in staff_actions() if w == "CoHandlingWorkflow" and not name.endswith("_signal")]


def test_the_actions_are_the_rules_actions():
    assert set(APPEAL_ACTIONS) == set(appeal_rules.ALL_ACTIONS)
    assert {n for n, _ in PART_ACTIONS} <= {"accept", "phased_report", "report", "decline", "review_decline"}


@pytest.mark.parametrize("action", sorted(APPEAL_ACTIONS))
def test_the_longest_appeal_action_fits_its_columns(action):
    cmd = longest(APPEAL_ACTIONS[action])
    view = _view(_units(cmd))
    drafts = appeal_rules.apply(view, action, cmd, NOW, _terms())
    assert overflows(_projected(view, drafts)) == []


def test_the_longest_part_actions_fit_their_columns():
    """A part's actions in the order a part lives them (what one sets, the next may carry: a
    declined part's reason becomes its closing reason), then the lead's close, each projected
    through its appeal."""
    actions = [*PART_ACTIONS, ("close", _definitions(CoHandlingWorkflow).signals["close"].arg_types[0])]
    for kind in PartKind:
        part = _part(kind, "BJ-WATER")
        view = _view(set())
        for name, input_type in actions:
            cmd = longest(input_type)
            assert isinstance(cmd, PartActionInput)
            draft = part_rules.apply(part, name, cmd, NOW)
            view.parts[part_key(kind, part.unit)] = part.model_copy()
            assert overflows(_projected(view, [draft])) == [], f"{kind.value} part, after {name}"
            if part.status is PartStatus.CLOSED:
                part.status = PartStatus.ACCEPTED  # the next action sees an open part again
