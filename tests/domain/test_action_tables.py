"""The action tables are the one declaration of each staff action: every entry has its workflow
Update and Signal twin, and the API serves each of its routes to exactly the entry's roles."""

import pytest
from temporalio import workflow

from api.routes import appeals as appeal_routes
from api.routes import governance as governance_routes
from api.routes import many_hands
from domain import collaboration, governance, parts
from domain.core import Action
from workflows.appeal import AppealWorkflow
from workflows.cohandling import CoHandlingWorkflow
from workflows.governance import GovernanceTaskWorkflow

TABLES = [
    (AppealWorkflow, collaboration.ALL_ACTIONS),
    (CoHandlingWorkflow, parts.ACTIONS),
    (GovernanceTaskWorkflow, governance.ACTIONS),
]


def _defn(cls):
    return workflow._Definition.must_from_class(cls)


@pytest.mark.parametrize(("workflow_class", "table"), TABLES, ids=["appeal", "part", "governance"])
def test_every_action_has_its_update_and_signal(workflow_class, table):
    defn = _defn(workflow_class)
    for action in table.values():
        if action.routes:  # a staff action: sent as an Update by the API
            assert action.name in defn.updates, action.name
        assert action.signal in defn.signals, action.signal


def _posted_paths() -> set[str]:
    routers = (appeal_routes.router, many_hands.router, governance_routes.router)
    return {route.path for router in routers for route in router.routes if "POST" in getattr(route, "methods", ())}


@pytest.mark.parametrize(
    ("prefix", "table"),
    [
        ("/appeals/{appeal_no}/", collaboration.ALL_ACTIONS),
        ("/appeals/{appeal_no}/{segment}/{unit}/", parts.ACTIONS),
        ("/governance/tasks/{task_id}/", governance.ACTIONS),
    ],
    ids=["appeal", "part", "governance"],
)
def test_every_route_of_the_tables_is_served(prefix, table):
    served = _posted_paths()
    for action in table.values():
        for route in action.routes:
            assert prefix + route.path in served, (action.name, route.path)
            assert action.roles, f"{action.name} is offered by the API with no role that may take it"


def test_a_check_refuses_a_role_its_entry_does_not_name():
    from domain.core import Refused
    from domain.messages import Actor
    from domain.types import Role

    entry: Action = collaboration.ALL_ACTIONS["supervise"]
    for role in Role:
        if role in entry.roles:
            continue
        with pytest.raises(Refused) as refused:
            entry.require_role(Actor(user="x", role=role, unit="U"))
        assert refused.value.code == "forbidden"


def _route_roles(router, path: str) -> set:
    """The roles a POST route's dependencies admit, found by asking each role (403 or not)."""
    import asyncio

    from fastapi import HTTPException

    from api.auth import Principal
    from api.errors import ApiError
    from domain.types import Role

    (route,) = [r for r in router.routes if getattr(r, "path", None) == path and "POST" in r.methods]
    checks = [d.call for d in route.dependant.dependencies if d.call.__name__ == "_check"]
    assert len(checks) == 1, path
    admitted = set()
    for role in Role:
        principal = Principal(username="x", role=role, unit="U", district=None)
        try:
            asyncio.run(checks[0](principal))
        except (ApiError, HTTPException):
            continue
        admitted.add(role)
    return admitted


@pytest.mark.parametrize("name", list(governance.ACTIONS))
def test_a_governance_route_admits_exactly_its_entry_roles(name):
    entry = governance.ACTIONS[name]
    (route,) = entry.routes
    assert _route_roles(governance_routes.router, f"/governance/tasks/{{task_id}}/{route.path}") == set(entry.roles)


@pytest.mark.parametrize("name", list(governance.ACTIONS))
def test_a_governance_check_refuses_a_role_its_entry_does_not_name(name, monkeypatch):
    """The checks read the roles from their entry: naming another role there admits it."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from domain.core import Refused
    from domain.governance import GovernanceTaskInput, GovernanceTerms
    from domain.messages import Actor
    from domain.types import Role

    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    view = governance.open_task(GovernanceTaskInput(
        task_id=1, category="C", owner_unit="U", terms=GovernanceTerms(), created_at=t0,
        created_by=Actor(user="s", role=Role.SUPERVISOR)))
    governance.open_round(view, t0)
    entry = governance.ACTIONS[name]
    fields = {"record_finding": {"problem_present": False, "note": "gone"},
              "cancel": {"reason": "merged"}, "reassign": {"unit": "V", "reason": "moved"}}[name]
    other = next(r for r in Role if r not in entry.roles)
    cmd = entry.input_type(actor=Actor(user="x", role=other, unit="U"), **fields)
    with pytest.raises(Refused) as refused:
        governance.check(view, name, cmd)
    assert refused.value.code == "forbidden"
    monkeypatch.setitem(governance.ACTIONS, name, replace(entry, roles=(*entry.roles, other)))
    governance.check(view, name, cmd)  # admitted now: the role came from the entry
