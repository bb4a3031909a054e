"""The action tables are the one declaration of each staff action: every entry has its workflow
Update and Signal twin, and the API serves each of its routes to exactly the entry's roles."""

import pytest
from temporalio import workflow

from api.routes import appeals as appeal_routes, many_hands
from domain import collaboration, parts
from domain.core import Action
from workflows.appeal import AppealWorkflow
from workflows.cohandling import CoHandlingWorkflow

TABLES = [(AppealWorkflow, collaboration.ALL_ACTIONS), (CoHandlingWorkflow, parts.ACTIONS)]


def _defn(cls):
    return workflow._Definition.must_from_class(cls)


@pytest.mark.parametrize(("workflow_class", "table"), TABLES, ids=["appeal", "part"])
def test_every_action_has_its_update_and_signal(workflow_class, table):
    defn = _defn(workflow_class)
    for action in table.values():
        if action.routes:  # a staff action: sent as an Update by the API
            assert action.name in defn.updates, action.name
        assert action.signal in defn.signals, action.signal


def _posted_paths() -> set[str]:
    routers = (appeal_routes.router, many_hands.router)
    return {route.path for router in routers for route in router.routes if "POST" in getattr(route, "methods", ())}


@pytest.mark.parametrize(
    ("prefix", "table"),
    [("/appeals/{appeal_no}/", collaboration.ALL_ACTIONS), ("/appeals/{appeal_no}/{segment}/{unit}/", parts.ACTIONS)],
    ids=["appeal", "part"],
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
