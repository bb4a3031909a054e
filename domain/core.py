"""Primitives shared by the rule modules: a refusal, a timeline event in the making, an alarm."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.messages import Actor


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

    kind: str
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
