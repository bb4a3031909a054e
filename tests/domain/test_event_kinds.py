"""Event kinds are stored, recorded in histories and shown by the API as their strings: the enum
must serialise as exactly that text."""

import json

from pydantic import BaseModel

from domain.events import EventKind


class _Carrier(BaseModel):
    kind: str
    detail: dict


def test_each_kind_is_its_own_lowercase_name():
    for kind in EventKind:
        assert kind.value == kind.name.lower()


def test_a_kind_serialises_as_its_plain_string():
    kind = EventKind.PART_CLOSED
    assert json.dumps(kind) == '"part_closed"'
    assert f"{kind}" == "part_closed"
    dumped = _Carrier(kind=kind, detail={"events": [kind]}).model_dump_json()
    assert json.loads(dumped) == {"kind": "part_closed", "detail": {"events": ["part_closed"]}}
    assert {"part_closed": 1}[kind] == 1  # rules keyed by either spelling find each other
