"""Who hears of what (domain.collaboration.recipients): each rule names exactly who is told."""

import pytest

from domain.collaboration import NOTIFY, recipients
from tests.domain.test_appeal_rules import dispatched

STREET = "110105-YAYUNCUN"
DEPARTMENTS = ["110105-CGW", "110105-ZJW"]


@pytest.mark.parametrize("kind", ["whistle_blown", "co_handling_requested"])
def test_units_summoned_are_told_and_not_the_unit_that_asked_them(kind):
    view = dispatched(unit=STREET)
    assert recipients(view, kind, STREET, {"units": DEPARTMENTS, "task": "open the road"}) == DEPARTMENTS


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("dispatched", [STREET]),
        ("escalated", [STREET, "supervision:110105"]),
        ("part_closed", ["110105-CGW"]),
        ("part_limit_missed", ["110105-CGW", "supervision:110105"]),
        ("accepted", []),
    ],
)
def test_each_rule_names_exactly_who_is_told(kind, expected):
    view = dispatched(unit=STREET)
    assert recipients(view, kind, "110105-CGW" if kind.startswith("part") else STREET, {}) == expected


def test_every_rule_is_made_of_known_recipients():
    for kind, rule in NOTIFY.items():
        assert set(rule.split("+")) <= {"unit", "units", "event_unit", "supervision"}, kind
