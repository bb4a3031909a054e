"""What Swagger UI sends works: Authorize logs in with OAuth2's password form, and an action
with no fields may be sent with no body at all. JSON clients are served as before."""

from __future__ import annotations

import asyncio
import time

import pytest

from api.main import create_app
from db.users import DemoUser, ensure_users
from domain.types import Role
from tests.api.conftest import PASSWORD, serve
from tests.api.test_appeals_e2e import intake, street_lights
from tests.conftest import settings_for

FORM = {"content-type": "application/x-www-form-urlencoded"}
USER = DemoUser("form-login", "Form login", Role.OPERATOR)


@pytest.fixture(scope="module")
async def form_user(engine):
    await ensure_users(engine, (USER,), PASSWORD)
    return USER.username


def shaped(r) -> dict:
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


# --- Authorize: OAuth2's password flow -----------------------------------------------------


async def test_the_password_form_gives_a_bearer_token_that_works(api, form_user):
    # as Swagger UI posts it: grant_type first, a charset, and an empty scope and client id
    r = await api.post("/auth/token", headers={"content-type": "application/x-www-form-urlencoded;charset=UTF-8"},
                       content=f"grant_type=password&username={form_user}&password={PASSWORD}&scope=&client_id=")
    assert r.status_code == 200, r.text
    token = r.json()
    assert token["token_type"] == "bearer" and token["role"] == "operator"
    listed = await api.get("/appeals", params={"limit": 1}, headers={"Authorization": f"Bearer {token['access_token']}"})
    assert listed.status_code == 200, listed.text


async def test_the_form_is_refused_as_json_is(api, form_user):
    wrong = await api.post("/auth/token", data={"username": form_user, "password": "not-it"})
    as_json = await api.post("/auth/token", json={"username": "nobody-form", "password": "not-it"})
    assert wrong.status_code == as_json.status_code == 401
    assert shaped(wrong) == shaped(as_json)
    for content, field in [
        (f"username={form_user}", "password"),
        (f"username={form_user}&password=", "password"),
        (f"grant_type=client_credentials&username={form_user}&password=x", "grant_type"),
        (f"username={form_user}&username=op&password=x", "username"),
        ("username=a%00b&password=x", "username"),
        ("username=%FF&password=x", "body"),
    ]:
        r = await api.post("/auth/token", content=content, headers=FORM)
        assert r.status_code == 422, (content, r.text)
        assert [d["field"] for d in shaped(r)["details"]] == [field], (content, r.text)


async def test_form_and_json_tries_count_against_the_same_limit(settings, engine):
    own = settings_for(settings.database_url, login_rate_per_minute=4)
    async with serve(create_app(own, engine=engine)) as client:
        for i in range(4):
            tried = {"username": "limited-form", "password": f"guess-{i}"}
            r = await (client.post("/auth/token", data=tried) if i % 2 else client.post("/auth/token", json=tried))
            assert r.status_code == 401, r.text
        r = await client.post("/auth/token", data={"username": "limited-form", "password": "guess-4"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


async def test_the_schema_offers_the_password_flow_beside_the_bearer_token(api):
    schema = (await api.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    password = [s for s in schemes.values() if s["type"] == "oauth2"]
    assert [s["flows"]["password"]["tokenUrl"] for s in password] == ["/auth/token"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    # either one opens a protected route
    assert {name for req in schema["paths"]["/appeals"]["get"]["security"] for name in req} == set(schemes)
    login = schema["paths"]["/auth/token"]["post"]["requestBody"]["content"]
    assert set(login) == {"application/json", "application/x-www-form-urlencoded"}
    assert set(login["application/x-www-form-urlencoded"]["schema"]["required"]) == {"username", "password"}


# --- actions with no fields -----------------------------------------------------------------


@pytest.mark.usefixtures("appeal_worker")
async def test_an_action_with_no_fields_takes_no_body(api, tokens):
    no = (await intake(api, tokens, street_lights(content="offline docs: accepted with no body")))["appeal"]["appeal_no"]
    lighting = tokens["lighting"]
    r = await api.post(f"/appeals/{no}/accept", headers=lighting)  # no body, no content type
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    contacted = await api.post(f"/appeals/{no}/contact", json={}, headers=lighting)
    assert contacted.status_code == 200, contacted.text
    # an action with a field to fill still needs its body
    r = await api.post(f"/appeals/{no}/complete", headers=lighting)
    assert r.status_code == 422 and [d["field"] for d in shaped(r)["details"]] == ["body"], r.text


@pytest.mark.usefixtures("appeal_worker")
async def test_a_part_action_with_no_fields_takes_no_body(api, tokens):
    created = await intake(api, tokens, {
        "appeal_type": "help", "category": "MUNI.DEADENDROAD", "location": {"street": "110105-YAYUNCUN"},
        "content": "offline docs: a part reported in with no body", "citizen": {"name": "黄女士", "phone": "13900001111"}})
    no, street = created["appeal"]["appeal_no"], tokens["yayuncun"]
    for action, body in [("accept", None), ("co-handling", {"units": ["110105-CGW"], "task": "check the permits"})]:
        r = await api.post(f"/appeals/{no}/{action}", json=body, headers=street)
        assert r.status_code == 200, (action, r.text)
    deadline = time.monotonic() + 20
    while True:  # the part is acted on once the appeal's record shows it
        r = await api.post(f"/appeals/{no}/co/110105-CGW/report-in", headers=tokens["cgw"])  # no body
        if r.status_code != 404 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
