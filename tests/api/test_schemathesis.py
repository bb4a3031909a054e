"""Property-based API run with Schemathesis: every operation of the OpenAPI schema, called as each
staff role, with a bounded number of generated requests. No response may be a server error (5xx),
and every response must conform to the schema: a documented status code, a documented content type
and headers, and a body matching the documented response model.

How it runs. The app shares the session's engine and Temporal client, which belong to the pytest
session event loop, and intake needs the session's appeal worker, which only makes progress while
that loop runs. Schemathesis's own ASGI transport (`schemathesis.openapi.from_asgi`) drives the app
on an event loop of its own in another thread, where the engine's asyncpg connections and the
Temporal client cannot be used. So the schema is loaded from the app's own OpenAPI document, the
generated cases are sent through a `requests` session whose adapter hands each request to an
in-process `httpx` client on the session loop, and Hypothesis runs in a worker thread while the
test awaits it on that loop (the worker keeps working meanwhile).

Every failing example is collected (no shrinking) so one run reports all of them, grouped by check.

Bound: JIESU_FUZZ_EXAMPLES generated requests per operation per role (default 25), derandomized,
so CI sees the same requests on every run.
"""

from __future__ import annotations

import asyncio
import io
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import hypothesis
import pytest
import pytest_asyncio
import requests
import requests.adapters
import schemathesis
import urllib3
from hypothesis import HealthCheck, Phase, given
from requests.utils import get_encoding_from_headers
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from settings import Settings
from tests.api.conftest import serve

BASE_URL = "http://jiesu.test"
MAX_EXAMPLES = int(os.environ.get("JIESU_FUZZ_EXAMPLES", "25"))
REQUEST_TIMEOUT = 60.0

# The roles, by the username `tokens` logs in as.
ROLES = {
    "operator": "op",
    "unit_staff": "lighting",
    "supervisor": "supervisor",
    "analyst": "analyst",
}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# The schema is fixed by the code, not by the settings: build it at collection time to get one
# test per operation (the test checks the running app serves the same document).
_OPENAPI = create_app(Settings(database_url="postgresql+asyncpg://collect@localhost/collect", JIESU_ENV="test")).openapi()
SCHEMA = schemathesis.openapi.from_dict(_OPENAPI)
OPERATIONS = {f"{op.method.upper()} {op.path}": op for op in (r.ok() for r in SCHEMA.get_all_operations())}


# --- requests → the app on the session loop --------------------------------------------------


class _LoopAdapter(requests.adapters.HTTPAdapter):
    """A `requests` adapter that sends each request through an in-process httpx client, on the
    event loop that owns the app's engine and Temporal client."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.client, self.loop = client, loop
        self.last_status = 0

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        started = time.monotonic()
        future = asyncio.run_coroutine_threadsafe(
            self.client.request(request.method, request.url, headers=dict(request.headers), content=body or b""),
            self.loop,
        )
        answer = future.result(timeout=REQUEST_TIMEOUT)
        self.last_status = answer.status_code
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(answer.content),
            headers=list(answer.headers.multi_items()),
            status=answer.status_code,
            reason=answer.reason_phrase,
            version=11,
            preload_content=False,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers)
        response.raw = raw
        response._content = answer.content
        response.encoding = get_encoding_from_headers(response.headers)
        response.reason = answer.reason_phrase
        response.url = request.url
        response.request = request
        response.elapsed = timedelta(seconds=time.monotonic() - started)
        return response


def loop_session(client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> tuple[requests.Session, _LoopAdapter]:
    session = requests.Session()
    adapter = _LoopAdapter(client, loop)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session, adapter


@pytest_asyncio.fixture(scope="module")
async def fuzz_api(settings, engine, dev_env, appeal_worker) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own (its own rate-limit counters), lifespan run, on the session's stores."""
    async with serve(create_app(settings, engine=engine, temporal=dev_env.client)) as client:
        yield client


STREET_LIGHTS = {
    "appeal_type": "complaint",
    "category": "MUNI.STREETLIGHT",
    "location": {"street": "110101-ANDINGMEN", "address": "方家胡同"},
    "content": "胡同里路灯昏暗，晚上经常有人摔跤",
    "citizen": {"name": "刘先生", "phone": "13812345678", "address": "东城区方家胡同 12 号"},
}


@pytest_asyncio.fixture(scope="module")
async def known_appeal(fuzz_api, tokens) -> str:
    """A real appeal, dispatched to BJ-LIGHTING (held by `lighting`): random appeal numbers only
    ever reach the 404 path, so each operation on an appeal also runs against this one."""
    r = await fuzz_api.post("/appeals", json=STREET_LIGHTS, headers=tokens["op"])
    assert r.status_code == 201, r.text
    no = r.json()["appeal"]["appeal_no"]
    deadline = time.monotonic() + 60
    while (await fuzz_api.get(f"/appeals/{no}", headers=tokens["op"])).json()["status"] != "dispatched":
        assert time.monotonic() < deadline, "the appeal was not dispatched"
        await asyncio.sleep(0.3)
    return no


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Findings:
    label: str
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # failure title → first report

    def record(self, status: int) -> None:
        self.sent += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def report(self) -> str:
        lines = [f"{self.label}: {len(self.failures)} distinct failure(s) in {self.sent} requests, statuses {self.statuses}"]
        for title, text in self.failures.items():
            lines += ["", f"=== {title}", text.strip()]
        return "\n".join(lines)


def run_operation(operation, headers: dict[str, str], session: requests.Session, adapter: _LoopAdapter,
                  findings: Findings, **strategy) -> None:
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=operation.as_strategy(**strategy))
    def check(case) -> None:
        try:
            case.call_and_validate(base_url=BASE_URL, session=session, headers=headers, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = f"[{adapter.last_status}] {type(failure).__name__}: {failure.title}: {failure.message[:160]}"
                findings.failures.setdefault(key, str(group))
        finally:
            findings.record(adapter.last_status)

    check()


@pytest.mark.parametrize("operation_label", list(OPERATIONS))
@pytest.mark.parametrize("role", list(ROLES))
async def test_schema_conformance(fuzz_api, tokens, known_appeal, role: str, operation_label: str) -> None:
    served = (await fuzz_api.get("/openapi.json")).json()
    assert served == _OPENAPI, "the running app serves another schema than the one collected"
    operation = OPERATIONS[operation_label]
    session, adapter = loop_session(fuzz_api, asyncio.get_running_loop())
    findings = Findings(f"{operation_label} as {role} ({ROLES[role]})")
    headers = tokens[ROLES[role]]
    await asyncio.to_thread(run_operation, operation, headers, session, adapter, findings)
    if "{appeal_no}" in operation.path:
        await asyncio.to_thread(
            run_operation, operation, headers, session, adapter, findings, path_parameters={"appeal_no": known_appeal}
        )
    assert findings.sent, "no request was generated"
    assert not findings.failures, findings.report()
