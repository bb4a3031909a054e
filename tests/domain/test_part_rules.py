"""What a unit's inbox offers a part to do next is what the part's rules admit."""

from datetime import datetime, timedelta

import pytest

from domain import parts as rules
from domain.calendar import CHINA_TZ
from domain.core import Refused
from domain.messages import (
    Actor,
    PartAcceptInput,
    PartDeclineInput,
    PartDeclineReviewInput,
    PartKind,
    PartPhasedReportInput,
    PartReportInput,
    PartStatus,
    PartView,
)
from domain.types import Role

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=CHINA_TZ)
STAFF = Actor(user="zjw", role=Role.UNIT_STAFF, unit="110105-ZJW")
HOTLINE = Actor(user="op", role=Role.OPERATOR)
COMMANDS = {
    "accept": PartAcceptInput(actor=STAFF, plan="permits"),
    "phased_report": PartPhasedReportInput(actor=STAFF, progress="half"),
    "report": PartReportInput(actor=STAFF, result="done"),
    "decline": PartDeclineInput(actor=STAFF, reason="not ours"),
    "review_decline": PartDeclineReviewInput(actor=HOTLINE, uphold=False),
}


def _part(status: PartStatus) -> PartView:
    return PartView(kind=PartKind.WHISTLE, unit="110105-ZJW", workflow_id="w", task="t", status=status,
                    requested_at=NOW, due=NOW + timedelta(days=10), report_in_due=NOW + timedelta(days=1))


@pytest.mark.parametrize("status", list(PartStatus))
def test_the_actions_offered_are_those_the_rules_admit(status):
    admitted = []
    for action, cmd in COMMANDS.items():
        try:
            rules.check(_part(status), action, cmd, NOW)
            admitted.append(action)
        except Refused as e:
            assert e.code == "wrong_state", (action, e.reason)
    assert rules.actions_open(status) == admitted
    assert set(rules.ACTION_STATUSES) == set(COMMANDS)
