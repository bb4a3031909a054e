"""Anonymous, malformed and hostile requests: each is a 4xx in the one error shape, never a 500;
logging in tells nothing by its limits or its timing; an error leaves the connection usable."""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
import pytest
import pytest_asyncio
import uvicorn

from api.main import create_app
from db.users import DemoUser, ensure_users
from devstack.ports import free_port
from domain.types import Role
from tests.api.conftest import PASSWORD, serve
from tests.api.test_schemathesis import STREET_LIGHTS
from tests.conftest import settings_for


def shaped(r: httpx.Response) -> dict:
    """The error of a 4xx in the one shape."""
    assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text)
    error = r.json()["error"]
    assert set(error) == {"code", "message", "details"}, r.text
    return error


def fields(error: dict) -> set[str]:
    details = error["details"]
    return {d["field"] for d in details} if isinstance(details, list) else {details["field"]}


@pytest_asyncio.fixture(scope="module")
async def an_appeal(api, tokens, appeal_worker) -> str:
    r = await api.post("/appeals", json=STREET_LIGHTS, headers=tokens["op"])
    assert r.status_code == 201, r.text
    return r.json()["appeal"]["appeal_no"]


# --- headers ---------------------------------------------------------------------------------


async def test_a_token_of_any_bytes_is_a_401(api):
    for token in (b"abc.\xff\xfe", b"\xff.\xff", b"abc.def", b"e30.\xe4\xb8\xad", b"bm90IGpzb24.x"):
        r = await api.get("/appeals", headers={"Authorization": b"Bearer " + token})
        assert r.status_code == 401, (token, r.text)
        shaped(r)


async def test_a_citizen_token_of_any_bytes_is_refused(api, an_appeal):
    for token in (b"\xff\xfe", "中文".encode(), b"caf\xe9"):
        for path in (f"/appeals/{an_appeal}", f"/appeals/{an_appeal}/timeline"):
            r = await api.get(path, headers={"X-Citizen-Token": token})
            assert r.status_code == 404, (path, token, r.text)
            shaped(r)


# --- paths, bounds, periods, dates -----------------------------------------------------------


async def test_a_control_character_in_a_path_is_a_422(api, tokens):
    for path in ("/appeals/%00", "/appeals/%00/timeline", "/units/%00", "/units/a%01b", "/units/%1F",
                 "/appeals/BJ%0A1/contact", "/governance/themes/2026-%0010"):
        r = await api.get(path, headers=tokens["supervisor"])
        assert r.status_code == 422 and fields(shaped(r)) == {"path"}, (path, r.text)


async def test_offsets_and_limits_are_bounded(api):
    for query in ("offset=1e20", "offset=100000000000000000000", "offset=-1", "limit=100000000000000000000"):
        r = await api.get(f"/units?{query}")
        assert r.status_code == 422, (query, r.text)
        shaped(r)


PERIOD_ROUTES = [
    ("/assessment/rates", "analyst"), ("/assessment/rankings?unit_class=street", "analyst"),
    ("/assessment/appeals", "analyst"), ("/assessment/whistles", "analyst"), ("/assessment/whistles/parts", "analyst"),
    ("/analytics/hotspots", "analyst"), ("/analytics/rising", "analyst"),
    ("/analytics/topics", "analyst"), ("/analytics/recurring", "analyst"), ("/analytics/drilldown", "analyst"),
    ("/governance/tasks", "analyst"), ("/governance/themes/candidates", "analyst"),
]


@pytest.mark.parametrize("route,user", PERIOD_ROUTES)
async def test_a_period_at_the_calendars_edge_is_a_422(api, tokens, route, user):
    join = "&" if "?" in route else "?"
    queries = ["period=9999-W52", "period=9999-12", "period=9999", "period=0001-01", "period=1990-01",
               "from=9999-12-31&to=9999-12-31", "from=0001-01-01&to=0001-01-01"]
    if route.startswith("/governance/themes"):
        queries = ["period=9999-12", "period=0001-01", "period=1990-01"]
    for query in queries:
        r = await api.get(f"{route}{join}{query}", headers=tokens[user])
        assert r.status_code == 422, (route, query, r.text)
        shaped(r)


async def test_dates_and_times_are_iso_strings_only(api, tokens):
    for path, field in [
        ("/calendar?from=2026-01-01&to=0.5", "to"), ("/calendar?from=0&to=2026-01-01", "from"),
        ("/calendar?from=2026-01-01T00:00&to=2026-01-02", "from"),
        ("/appeals?from=0.5", "from"), ("/appeals?to=86400", "to"),
        ("/assessment/rates?from=2026-10-01&to=0.5", "to"), ("/governance/tasks?from=1&to=2", "from"),
        ("/audit/personal-data?from=1700000000", "from"),
    ]:
        r = await api.get(path, headers=tokens["supervisor"] if "audit" not in path else tokens["op"])
        if r.status_code == 403:  # a route the caller may not read: no answer about its input
            continue
        assert r.status_code == 422 and field in fields(shaped(r)), (path, r.text)
    ok = await api.get("/calendar?from=2026-01-01&to=2026-01-31")
    assert ok.status_code == 200, ok.text
    ok = await api.get("/appeals?from=2026-01-01T00:00:00%2B08:00", headers=tokens["supervisor"])
    assert ok.status_code == 200, ok.text


async def test_an_unknown_query_parameter_is_a_422_naming_it(api, tokens):
    for path, headers in [
        ("/analytics/hotspots?categroy=MUNI.ROAD", tokens["analyst"]),
        ("/units?categroy=x", {}),
        ("/appeals?limit=5&statuss=closed", tokens["op"]),
        ("/assessment/rates?period=2026-10&categroy=MUNI", tokens["analyst"]),
    ]:
        r = await api.get(path, headers=headers)
        name = path.split("?")[1].split("&")[-1].split("=")[0]
        assert r.status_code == 422 and fields(shaped(r)) == {name}, (path, r.text)
    # every declared one, including those of a shared dependency (the period) and aliases
    r = await api.get("/analytics/hotspots?period=2026-10&format=json&category=MUNI&limit=5", headers=tokens["analyst"])
    assert r.status_code == 200, r.text


async def test_a_body_that_is_not_utf8_is_a_422_naming_the_body(api, tokens):
    for body in (b'{"username": "\xff", "password": "x"}', b"\xfe\xff\x00{", b"{not json"):
        r = await api.post("/auth/token", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422 and fields(shaped(r)) == {"body"}, (body, r.text)


# --- logging in ------------------------------------------------------------------------------


async def test_one_client_spraying_many_usernames_is_limited(settings, engine):
    own = settings_for(settings.database_url, login_client_rate_per_minute=5)
    async with serve(create_app(own, engine=engine)) as client:
        for i in range(5):
            r = await client.post("/auth/token", json={"username": f"spray-{i}", "password": "Summer2026!"})
            assert r.status_code == 401, r.text
        r = await client.post("/auth/token", json={"username": "spray-5", "password": "Summer2026!"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        assert shaped(r)["code"] == "too_many_requests"


async def test_a_refusal_takes_as_long_for_an_unknown_user_as_for_a_real_one(settings, engine):
    await ensure_users(engine, (DemoUser("timing-real", "Timing", Role.ANALYST),), PASSWORD)
    own = settings_for(settings.database_url, login_client_rate_per_minute=100, login_rate_per_minute=100)
    async with serve(create_app(own, engine=engine)) as client:

        async def took(username: str) -> float:
            started = time.perf_counter()
            r = await client.post("/auth/token", json={"username": username, "password": "wrong-password"})
            assert r.status_code == 401
            return time.perf_counter() - started

        await took("timing-real"), await took("timing-nobody")  # warm up (the dummy hash is made once)
        real, unknown = [], []
        for i in range(5):
            real.append(await took("timing-real"))
            unknown.append(await took(f"timing-nobody-{i}"))
    ratio = statistics.median(real) / statistics.median(unknown)
    assert 1 / 3 < ratio < 3, (real, unknown)


# --- who looks for duplicates ----------------------------------------------------------------


async def test_only_operators_look_for_duplicates(api, tokens, an_appeal):
    assert (await api.get(f"/appeals/{an_appeal}/duplicates", headers=tokens["op"])).status_code == 200
    for user in ("supervisor", "dongcheng-sup", "analyst", "lighting"):
        r = await api.get(f"/appeals/{an_appeal}/duplicates", headers=tokens[user])
        assert r.status_code == 403, (user, r.text)


# --- a real server: the connection outlives an error -----------------------------------------


async def test_an_error_leaves_the_keep_alive_connection_usable(settings, engine, dev_env):
    app = create_app(settings, engine=engine, temporal=dev_env.client)

    async def broken() -> None:
        raise ZeroDivisionError("a defect no route expected")

    app.add_api_route("/test-only/broken", broken)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "the server did not start"
            await asyncio.sleep(0.05)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as client:

            def local_port(r: httpx.Response) -> int:
                return r.extensions["network_stream"].get_extra_info("client_addr")[1]

            first = await client.get("/units", params={"limit": 1})
            assert first.status_code == 200
            connection = local_port(first)
            for method, path, kwargs, status in [
                ("get", "/test-only/broken", {}, 500),
                ("get", "/units/NO-SUCH-UNIT", {}, 404),
                ("get", "/units/%00", {}, 422),
                ("get", "/units", {"params": {"offset": "1e20"}}, 422),
                ("get", "/units", {"params": {"kindd": "street"}}, 422),
                ("get", "/appeals", {"headers": {"Authorization": b"Bearer abc.\xff"}}, 401),
                ("post", "/auth/token", {"content": b'{"username": "\xff"}', "headers": {"content-type": "application/json"}}, 422),
                ("post", "/auth/token", {"json": {"username": "x"}}, 422),
            ]:
                r = await getattr(client, method)(path, **kwargs)
                assert r.status_code == status, (path, r.text)
                assert set(r.json()["error"]) == {"code", "message", "details"}
                again = await client.get("/units", params={"limit": 1})
                assert again.status_code == 200
                assert local_port(again) == connection, f"the connection was closed after {path}"
    finally:
        server.should_exit = True
        await serving
