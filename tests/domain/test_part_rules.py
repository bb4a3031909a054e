"""What a unit's inbox offers a part to do next is what the part's rules admit."""

from datetime import datetime, timedelta

import pytest

from domain import parts as rules
from domain.calendar import CHINA_TZ
from domain.core import REMINDER_SPREAD, Refused
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


def test_a_parts_spread_reminders_come_after_their_point_and_its_limits_never_move():
    def alarms(part: PartView, spread: bool) -> dict[str, datetime]:
        seen = {}
        while (alarm := rules.next_alarm(part, 0.75, spread)) is not None:
            seen[alarm.name] = alarm.at
            rules.fire(part, alarm)
        return seen

    plain = alarms(_part(PartStatus.REQUESTED), False)
    spreads = [alarms(_part(PartStatus.REQUESTED).model_copy(update={"workflow_id": f"w{i}"}), True) for i in range(20)]
    assert plain == {"report_in:reminder": NOW + timedelta(hours=18), "report_in:missed": NOW + timedelta(days=1),
                     "part:reminder": NOW + timedelta(days=7.5), "part:missed": NOW + timedelta(days=10)}
    for moved in spreads:
        assert moved.keys() == plain.keys()
        assert moved["report_in:missed"] == plain["report_in:missed"] and moved["part:missed"] == plain["part:missed"]
        for name in ("report_in:reminder", "part:reminder"):
            assert timedelta(0) <= moved[name] - plain[name] <= REMINDER_SPREAD
    assert len({moved["part:reminder"] for moved in spreads}) > 10  # each part its own moment
