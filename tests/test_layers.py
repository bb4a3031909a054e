"""Dependencies point down: domain/ (pure) at the bottom; db/ the data layer; analytics/ over db;
activities/ and workflows/ above; api/, worker.py, devstack/ on top; console/ (the staff pages)
over the API, which it calls: it reads no database and sends no workflow message itself.

Every import of every module is read (those inside functions too: a lazy import is still an
arrow), so a change that makes a lower layer reach up fails here, naming the file and the line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: What each layer must not import: the project's packages above it, and the frameworks of the
#: layers that own them (HTTP is the API's, Temporal the workflows' and activities', SQL db's).
FORBIDDEN: dict[str, set[str]] = {
    "domain": {
        "db", "analytics", "activities", "workflows", "api", "console", "infra", "notify", "devstack", "seed",
        "bench", "chaos", "worker", "settings",
        "fastapi", "starlette", "temporalio", "sqlalchemy", "sqlmodel", "asyncpg", "httpx",
    },
    "db": {
        "analytics", "activities", "workflows", "api", "console", "infra", "notify", "devstack", "seed",
        "bench", "chaos", "worker", "fastapi", "starlette", "temporalio",
    },
    "analytics": {
        "activities", "workflows", "api", "console", "infra", "notify", "devstack", "seed", "bench", "chaos",
        "worker", "fastapi", "starlette", "temporalio",
    },
    "activities": {"workflows", "api", "console", "devstack", "bench", "chaos", "worker", "fastapi", "starlette"},
    "workflows": {
        "db", "analytics", "api", "console", "infra", "notify", "devstack", "seed", "bench", "chaos", "worker",
        "fastapi", "starlette", "sqlalchemy", "sqlmodel",
    },
    "infra": {"api", "console", "devstack", "bench", "chaos", "worker", "fastapi", "starlette"},
    "notify": {"analytics", "activities", "workflows", "api", "console", "devstack", "bench", "chaos", "worker", "fastapi"},
    "seed": {"analytics", "activities", "workflows", "api", "console", "infra", "devstack", "bench", "chaos", "worker"},
    # the console goes through the API: no database, no workflow, no figures of its own
    "console": {
        "db", "analytics", "activities", "workflows", "infra", "notify", "devstack", "seed", "bench", "chaos",
        "worker", "sqlalchemy", "sqlmodel", "asyncpg", "temporalio",
    },
}


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def arrows_up(layer: str) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {package}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for line, package in imports(path)
        if package in FORBIDDEN[layer]
    ]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_point_down(layer):
    assert (ROOT / layer).is_dir()
    assert arrows_up(layer) == []


def test_an_import_inside_a_function_counts(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import sqlalchemy\n\ndef f():\n    from api.csv import csv_response\n")
    assert imports(module) == [(1, "sqlalchemy"), (4, "api")]


#: app state in a route module: `request.app.state.x`, `app.state.x` (api/deps.py hands them out)
APP_STATE = re.compile(r"\bapp\s*\.\s*state\b")


def app_state_reads(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every line of the file that names the app's state."""
    return [
        (number, line.strip())
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if APP_STATE.search(line)
    ]


def test_route_modules_take_shared_objects_from_dependencies():
    """Route modules never read the app's state: the engines, caches, clients, settings and rate
    limits come through the dependencies of api/deps.py, the one place that touches it."""
    routes = sorted((ROOT / "api" / "routes").rglob("*.py"))
    assert routes
    assert [f"{path.relative_to(ROOT)}:{line} {text}" for path in routes for line, text in app_state_reads(path)] == []


def test_an_app_state_read_is_found(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f(request):\n    return request.app.state.engine\n\ndef g(app):\n    app.state.x = 1\n")
    assert [line for line, _ in app_state_reads(module)] == [2, 5]
