"""What a page offers (`domain.core.offered`) is exactly what the rules would admit: for every
status an order can be in and everyone who might look at it, an action is offered if and only
if its check lets the ordinary command of that action through."""

from __future__ import annotations

import pytest

from domain.appeal import ACTIONS, check
from domain.core import Probe, Refused, offered
from domain.messages import AppealStatus
from tests.domain.test_appeal_rules import CITIZEN, NOW, OPERATOR, PATHS, SUPERVISOR, A, B, command, staff, view_in

ACTORS = {"operator": OPERATOR, "the unit": staff(A), "another unit": staff(B), "supervisor": SUPERVISOR,
          "citizen": CITIZEN}
STATUSES = [AppealStatus.RECEIVED, AppealStatus.ANSWERED, *PATHS]


def admitted(view, actor) -> set[str]:
    found = set()
    for name in ACTIONS:
        try:
            check(view, name, command(view, name, actor=actor), NOW)
        except Refused:
            continue
        found.add(name)
    return found


@pytest.mark.parametrize("status", STATUSES, ids=[s.value for s in STATUSES])
@pytest.mark.parametrize("who", ACTORS)
def test_offered_is_what_the_checks_admit(status, who):
    view, actor = view_in(status), ACTORS[who]
    assert {a.name for a in offered(ACTIONS, view, actor, NOW)} == admitted(view, actor)


def test_a_dispatched_order_offers_its_unit_accept_and_objection_and_the_hotline_nothing():
    view = view_in(AppealStatus.DISPATCHED)
    assert {a.name for a in offered(ACTIONS, view, staff(A), NOW)} >= {"accept", "raise_objection"}
    assert offered(ACTIONS, view, staff(B), NOW) == []
    assert offered(ACTIONS, view, OPERATOR, NOW) == []


def test_a_probe_has_an_actor_and_nothing_else():
    probe = Probe(OPERATOR)
    assert probe.actor is OPERATOR
    with pytest.raises(Exception, match="reason"):
        _ = probe.reason
