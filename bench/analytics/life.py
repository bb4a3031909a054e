"""One appeal's life, run through the real rules the way `AppealWorkflow` runs them: the intake
(`open_appeal`, routing, `start_clock`), every staff action through `check` and `apply`, every
reminder and missed limit through `next_alarm` and `fire` at the moment its timer would fire, and
the parts' own workflows (`domain.parts`) telling the appeal of each change. What comes out —
the final `AppealView` and the numbered timeline — is what the projection activity would have
written, so the synthetic rows look exactly like real ones.

Times come from the caller's script; nothing happens after `as_of` (the moment the data is
generated), so recent appeals are still open where their script was cut off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain import appeal as rules
from domain import collaboration as more
from domain import parts as part_rules
from domain.core import Draft, Refused
from domain.messages import (
    ActionInput,
    Actor,
    AppealInput,
    AppealStatus,
    AppealView,
    IntakeDecision,
    PartActionInput,
    PartKind,
    PartStatus,
    PartView,
    Terms,
    part_key,
)

CLOSED = AppealStatus.CLOSED


@dataclass
class Event:
    seq: int
    kind: str
    at: datetime
    actor: Actor | None
    unit: str | None
    detail: dict[str, Any]


@dataclass
class Life:
    inp: AppealInput
    terms: Terms
    as_of: datetime
    view: AppealView | None = None
    events: list[Event] = field(default_factory=list)
    children: dict[str, PartView] = field(default_factory=dict)  # the parts' own workflows
    now: datetime | None = None

    # --- the workflow's main line ------------------------------------------------------
    def start(self, at: datetime, unit: str | None) -> None:
        """`AppealWorkflow.run` up to the first projection; `unit` is what routing returned."""
        inp = self.inp
        view, drafts = rules.open_appeal(inp, at, self.terms)
        if inp.decision is IntakeDecision.DISPATCH:
            unit = inp.unit or unit
            if unit is None:
                drafts.append(Draft("dispatch_needed", None, detail={"reason": "no routing rule applies"}))
            else:
                rules.start_clock(view, unit, at, self.terms)
                drafts.append(rules.intake_dispatched_draft(view, inp))
        self.view = view
        self.now = at
        self._record(drafts, at)

    @property
    def closed(self) -> bool:
        return self.view.status is CLOSED

    def advance(self, to: datetime) -> bool:
        """Let the clock run to `to`, firing every timer due on the way (the appeal's and its
        parts'). False when `to` is past `as_of`: the script stops there."""
        limit = min(to, self.as_of)
        while True:
            due = self._next_timer()
            if due is None or due[0] > limit:
                break
            at, key, alarm = due
            self.now = max(self.now, at)
            if key is None:
                drafts = rules.fire(self.view, alarm, at)
                if self.closed:
                    drafts[-1:-1] = more.settle_parts(self.view, "the appeal closed")
                    self.children.clear()  # the parent-close policy cancels them
                self._record(drafts, at)
            else:
                part = self.children[key]
                for draft in part_rules.fire(part, alarm):
                    self._part_changed(part, draft, at)
        if to > self.as_of:
            self.now = self.as_of
            return False
        self.now = max(self.now, to)
        return True

    def act(self, at: datetime, action: str, cmd: ActionInput) -> bool:
        """A staff action (an Update): checked, then applied. False when refused (the caller got
        a 409; nothing is recorded) or past `as_of`. The workflow's clock never goes back: an
        action asked for earlier than the last thing that happened happens now."""
        at = max(at, self.now)
        if not self.advance(at):
            return False
        try:
            more.check(self.view, action, cmd, at)
        except Refused:
            return False
        self._record(more.apply(self.view, action, cmd, at, self.terms), at)
        if self.closed:
            self.children.clear()
        if action == "request_parts":
            for unit in cmd.units:
                key = part_key(cmd.kind, unit)
                self.children[key] = self.view.parts[key].model_copy()
        return True

    def part_act(self, at: datetime, kind: PartKind, unit: str, action: str, cmd: PartActionInput) -> bool:
        """An action on a part's own workflow, which then tells the appeal."""
        at = max(at, self.now)
        if not self.advance(at):
            return False
        part = self.children.get(part_key(kind, unit))
        if part is None:
            return False
        try:
            part_rules.check(part, action, cmd, at)
        except Refused:
            return False
        self._part_changed(part, part_rules.apply(part, action, cmd, at), at)
        return True

    def finish(self) -> AppealView:
        """Run the clock to `as_of`."""
        self.advance(self.as_of)
        return self.view

    # --- internals ---------------------------------------------------------------------
    def _next_timer(self) -> tuple[datetime, str | None, Any] | None:
        found = None
        if not self.closed:
            alarm = rules.next_alarm(self.view, self.terms)
            if alarm is not None:
                found = (alarm.at, None, alarm)
        for key, part in self.children.items():
            alarm = part_rules.next_alarm(part, self.terms.reminder_at_fraction)
            if alarm is not None and (found is None or alarm.at < found[0]):
                found = (alarm.at, key, alarm)
        return found

    def _part_changed(self, part: PartView, draft: Draft, at: datetime) -> None:
        """`AppealWorkflow.part_changed`: the appeal keeps the part as its workflow reports it."""
        key = part_key(part.kind, part.unit)
        known = self.view.parts.get(key)
        copy = part.model_copy()
        if known is not None:
            if known.status is PartStatus.CLOSED and copy.status is not PartStatus.CLOSED:
                return
            copy = copy.model_copy(update={"rating": known.rating, "rating_comment": known.rating_comment})
        self.view.parts[key] = copy
        if not part.open:
            self.children.pop(key, None)  # its workflow ends
        if not self.closed:
            self._record([draft], at)

    def _record(self, drafts: list[Draft], at: datetime) -> None:
        for d in drafts:
            self.view.seq += 1
            self.events.append(Event(self.view.seq, d.kind, at, d.actor, d.unit, d.detail))
