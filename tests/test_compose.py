"""The production-like deployment (docker-compose.yml, Dockerfile, deploy/), read as a deployer
would read it.

No Docker is needed: these tests parse the files and check what would otherwise only show up
as a stack that never starts, starts in the wrong order, or runs something it should not.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from collections import Counter
from collections.abc import Mapping
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
SERVICES_DOC = ROOT / "docs" / "operations.md"  # the manual's page on the compose stack

ONE_SHOT_JOBS = {
    "temporal-admin-tools",
    "temporal-create-namespace",
    "register-search-attributes",
    "migrate",
}
ENTRY_POINTS = {
    "migrate": ["python", "-m", "db.migrate"],
    "register-search-attributes": ["python", "-m", "devstack.search_attributes"],
    "worker": ["python", "worker.py"],
    "api": ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"],
}
APP_SERVICES = set(ENTRY_POINTS)
REQUIRED_SERVICES = {"postgresql", "temporal", "temporal-ui"} | ONE_SHOT_JOBS | APP_SERVICES

# DESIGN.md, "Search attributes": what administrators filter on in the Temporal UI.
PROJECT_SEARCH_ATTRIBUTES = {
    "AppealStatus": "KEYWORD",
    "HandlingUnit": "KEYWORD",
    "District": "KEYWORD",
    "Street": "KEYWORD",
    "Category": "KEYWORD",
    "AppealType": "KEYWORD",
    "Urgency": "KEYWORD",
    "ReplyDeadline": "DATETIME",
    "Overdue": "BOOL",
    "ProjectionFailed": "BOOL",
    "InStatusSince": "DATETIME",
}
# Custom search attribute columns pre-allocated by Temporal's PostgreSQL visibility schema
# (schema/postgresql/v12/visibility: Keyword01..10, Bool01..03, ...). One more than this and
# registration fails on the compose stack although it works on the dev server.
POSTGRES_VISIBILITY_SLOTS = {
    "KEYWORD": 10, "BOOL": 3, "DATETIME": 3, "INT": 3, "DOUBLE": 3, "TEXT": 3, "KEYWORDLIST": 3,
}


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return compose["services"]


def depends_on(service: dict) -> dict[str, str]:
    """`depends_on` as {target: condition}; the short list form means service_started."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def command(service: dict) -> list[str]:
    cmd = service.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: str(value) for key, value in env.items()}


def test_every_service_of_the_topology_is_defined(services):
    assert REQUIRED_SERVICES <= set(services), f"missing: {REQUIRED_SERVICES - set(services)}"


def test_every_dependency_names_a_defined_service(services):
    dangling = {
        f"{name} -> {target}"
        for name, service in services.items()
        for target in depends_on(service)
        if target not in services
    }
    assert not dangling


def test_one_shot_jobs_are_awaited_until_they_succeed(services):
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            if target in ONE_SHOT_JOBS:
                assert condition == "service_completed_successfully", f"{name} -> {target}"
    for job in ONE_SHOT_JOBS:
        assert any(job in depends_on(s) for s in services.values()), f"nothing waits for {job}"
    # The order that makes the stack come up: schema before server, namespace before search
    # attributes, and the application only once its database and attributes are in place.
    assert "temporal-admin-tools" in depends_on(services["temporal"])
    assert "temporal-create-namespace" in depends_on(services["register-search-attributes"])
    for name in ("api", "worker"):
        assert {"migrate", "register-search-attributes"} <= set(depends_on(services[name]))


def test_services_waited_on_for_health_define_a_healthcheck(services):
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            if condition == "service_healthy":
                check = services[target].get("healthcheck") or {}
                assert check.get("test") and not check.get("disable"), f"{name} waits on {target}"
    assert "/healthz" in " ".join(map(str, services["api"]["healthcheck"]["test"]))


def test_images_are_pinned_and_auto_setup_is_not_used(services):
    for name, service in services.items():
        image = service.get("image")
        assert image or "build" in service, f"{name} has neither image nor build"
        if not image:
            continue
        image = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", image)  # ${TAG:-local} -> local
        assert "auto-setup" not in image, f"{name} uses the deprecated auto-setup image"
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag not in ("", "latest"), f"{name}: {image} is not pinned"


def test_temporal_runs_on_postgres_with_the_schema_tool(services):
    assert services["temporal"]["image"].startswith("temporalio/server:")
    assert environment(services["temporal"])["DB"] == "postgres12"
    for job in ("temporal-admin-tools", "temporal-create-namespace"):
        assert services[job]["image"].startswith("temporalio/admin-tools:")
    # The schema job sets up both databases the server opens (its DBNAME defaults).
    script = (ROOT / "deploy/temporal/setup-db.sh").read_text(encoding="utf-8")
    assert "--plugin postgres12" in script
    for step in ("create", "setup-schema", "update-schema"):
        assert re.search(rf"\b{step}\b", script), step
    assert re.search(r"^setup temporal temporal$", script, re.M)
    assert re.search(r"^setup temporal_visibility visibility$", script, re.M)


def test_the_ui_is_the_dev_servers_generation_and_can_be_made_read_only(services):
    # the dev server (temporal CLI 1.9.1) ships UI 2.54.1: the one that shows current details;
    # docs/operations.md describes that UI
    ui = services["temporal-ui"]
    assert ui["image"] == "temporalio/ui:2.54.1"
    assert ui["environment"]["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "${TEMPORAL_DISABLE_WRITE_ACTIONS:-false}"


def test_app_services_run_the_project_image_and_entry_points(services):
    images = {services[name].get("image") for name in APP_SERVICES}
    assert len(images) == 1 and None not in images, f"app services use {images}"
    for name, entry_point in ENTRY_POINTS.items():
        build = services[name].get("build")
        assert build, f"{name} is not built from the Dockerfile"
        if isinstance(build, Mapping):
            assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
            assert Path(ROOT, build.get("context", ".")).resolve() == ROOT
        assert command(services[name]) == entry_point, name


def test_app_refuses_to_start_without_real_secrets(services):
    for name in APP_SERVICES:
        env = environment(services[name])
        assert env["JIESU_ENV"] == "production", name
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233", name
        assert re.fullmatch(r"postgresql://jiesu:.+@postgresql:5432/jiesu", env["DATABASE_URL"])
        for secret in ("SECRET_KEY", "PII_KEY"):
            assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", env[secret]), f"{name}.{secret}"


def test_env_example_lists_every_required_variable():
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE_FILE.read_text(encoding="utf-8")))
    listed = set(re.findall(r"^(\w+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M))
    assert {"SECRET_KEY", "PII_KEY"} <= required
    assert required <= listed, f"not in deploy/.env.example: {required - listed}"


def test_bind_mounted_files_exist(services):
    """A missing host file would be mounted as an empty directory, failing at start-up."""
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")):
                assert (ROOT / source).is_file(), f"{name} mounts missing {source}"


def test_postgres_keeps_its_data_in_a_named_volume(services):
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    mounts = dict(v.split(":", 1) for v in services["postgresql"]["volumes"] if isinstance(v, str))
    named = [src for src, dst in mounts.items() if dst.startswith("/var/lib/postgresql/data")]
    assert named and named[0] in (compose.get("volumes") or {})


def _type_name(value: object) -> str:
    """'Keyword', SearchAttributeIndexedValueType.KEYWORD, or a SearchAttributeKey -> 'KEYWORD'."""
    value = getattr(value, "indexed_value_type", value)
    name = getattr(value, "name", value)
    return str(name).upper().removeprefix("INDEXED_VALUE_TYPE_").replace("_", "")


@pytest.fixture(scope="module")
def project_search_attributes() -> dict[str, str]:
    module = pytest.importorskip("workflows.search_attributes")
    attributes = module.SEARCH_ATTRIBUTES
    if not isinstance(attributes, Mapping):  # a collection of SearchAttributeKey
        attributes = {key.name: key for key in attributes}
    return {name: _type_name(kind) for name, kind in attributes.items()}


def test_registered_search_attributes_are_the_projects(project_search_attributes):
    assert project_search_attributes == PROJECT_SEARCH_ATTRIBUTES


def test_search_attributes_fit_postgres_visibility(project_search_attributes):
    for kind, count in Counter(project_search_attributes.values()).items():
        assert count <= POSTGRES_VISIBILITY_SLOTS.get(kind, 0), f"{count} {kind} attributes"


def test_docs_list_only_services_that_exist(services):
    assert SERVICES_DOC.is_file(), "docs/operations.md is missing"
    block = re.search(
        r"<!-- compose-services -->(.*?)<!-- /compose-services -->",
        SERVICES_DOC.read_text(encoding="utf-8"),
        re.S,
    )
    assert block, "docs/operations.md has no <!-- compose-services --> block"
    named = set()
    for line in block.group(1).splitlines():
        if line.strip().startswith("|"):
            first_cell = line.strip().strip("|").split("|")[0]
            named.update(re.findall(r"`([^`]+)`", first_cell))
    assert named, "the compose-services table names no service"
    assert named <= set(services), f"docs/operations.md names unknown services: {named - set(services)}"


def _final_stage(dockerfile: str) -> str:
    return re.split(r"^FROM\s", dockerfile, flags=re.M | re.I)[-1]


def _dockerignored(path: str) -> bool:
    """Roughly Docker's rule: a path is left out when it, or a folder above it, matches."""
    patterns = [
        line.strip().strip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        tails = [pattern[3:]] if pattern.startswith("**/") else []
        for candidate in candidates:
            pieces = candidate.split("/")
            suffixes = ["/".join(pieces[i:]) for i in range(len(pieces))]
            if fnmatch(candidate, pattern) or any(fnmatch(x, t) for x in suffixes for t in tails):
                ignored = not keep
                break
    return ignored


def test_dockerfile_installs_the_project_with_its_migrations():
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.12-slim\b", dockerfile, re.M)
    assert re.search(r"^RUN .*\bpip install\b.*\s\.\s*$", dockerfile, re.M), "no `pip install .`"
    # What the runtime stage copies from the build context, after .dockerignore.
    sources = [
        src.rstrip("/")
        for line in re.findall(r"^COPY (?!--from)(.+)$", _final_stage(dockerfile), re.M)
        for src in line.split()[:-1]
        if not src.startswith("--")
    ]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = pyproject["tool"]["setuptools"]
    packages = [p.rstrip("*") for p in setuptools["packages"]["find"]["include"]]
    modules = [f"{m}.py" for m in setuptools["py-modules"]]
    for needed in ["alembic.ini", "migrations/env.py", "seed/data", *modules, *packages]:
        assert "." in sources or needed.split("/")[0] in sources, f"runtime image lacks {needed}"
        assert not _dockerignored(needed), f".dockerignore leaves out {needed}"
    for secret in (".env", "deploy/.env", ".data"):
        assert _dockerignored(secret), f"{secret} would be sent into the image"


def test_dockerfile_runs_as_a_non_root_user():
    users = re.findall(r"^USER\s+(\S+)", _final_stage(DOCKERFILE.read_text(encoding="utf-8")), re.M)
    assert users, "no USER in the runtime stage"
    assert users[-1].split(":")[0] not in ("root", "0")
