"""The request examples /docs shows are ones the API takes: the street lights of 方家胡同 driven
through the actions with the bodies the OpenAPI document offers (its named examples, as Swagger
UI's "Try it out" sends them), each answered 2xx, on the dev server and real PostgreSQL.

A date in an example that has passed by the time the suite runs is moved a month ahead: the
rules refuse a phased report expected yesterday."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from db.users import DemoUser, ensure_users
from domain.types import Role
from tests.api.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("appeal_worker")

#: the unit the lighting centre asks for help (its example: billboards hiding the lamps)
DONGCHENG_CGW = DemoUser("dc-cgw", "Dongcheng urban management", Role.UNIT_STAFF, "110101-CGW")


async def documented(api, method: str, path: str, which: int = 0) -> dict:
    """The `which`th example the OpenAPI document offers for the operation's JSON body."""
    media = (await api.get("/openapi.json")).json()["paths"][path][method]["requestBody"]["content"]["application/json"]
    examples = [media["example"]] if "example" in media else [e["value"] for e in media["examples"].values()]
    body = dict(examples[which])
    soon = (date.today() + timedelta(days=30)).isoformat()
    if body.get("expected_date", soon) < soon:
        body["expected_date"] = soon
    return body


async def send(api, headers, path: str, *, which: int = 0, **params) -> dict:
    body = await documented(api, "post", path, which)
    r = await api.post(path.format(**params), json=body, headers=headers)
    assert 200 <= r.status_code < 300, f"{path} with {body}: {r.status_code} {r.text}"
    return r.json()


async def test_the_street_lights_story_with_the_documented_bodies(api, tokens, engine):
    await ensure_users(engine, (DONGCHENG_CGW,), PASSWORD)
    r = await api.post("/auth/token", json={"username": DONGCHENG_CGW.username, "password": PASSWORD})
    dc_cgw = {"Authorization": f"Bearer {r.json()['access_token']}"}
    lighting, op = tokens["lighting"], tokens["op"]

    created = await send(api, op, "/appeals")
    no = created["appeal"]["appeal_no"]
    assert (created["appeal"]["category"], created["appeal"]["handling_unit"]) == ("MUNI.STREETLIGHT", "BJ-LIGHTING")
    appeal = "/appeals/{appeal_no}/"
    assert (await send(api, lighting, appeal + "accept", appeal_no=no))["status"] == "accepted"
    assert (await send(api, lighting, appeal + "contact", appeal_no=no))["status"] == "contacted"
    assert (await send(api, lighting, appeal + "phased-report", appeal_no=no))["status"] == "in_progress"
    assert (await send(api, lighting, appeal + "extension", appeal_no=no))["extension"] == "requested"
    assert (await send(api, op, appeal + "extension-review", appeal_no=no))["extension"] == "approved"

    # the lighting centre asks the district's urban management to take down the billboards
    view = await send(api, lighting, appeal + "co-handling", appeal_no=no)
    assert view["parts"]["co_handling:110101-CGW"]["status"] == "requested"
    part = appeal + "{segment}/{unit}/"
    where = {"appeal_no": no, "segment": "co", "unit": "110101-CGW"}
    assert (await send(api, dc_cgw, part + "accept", which=1, **where))["status"] == "accepted"
    assert (await send(api, dc_cgw, part + "phased-report", **where))["status"] == "accepted"
    assert (await send(api, dc_cgw, part + "decline", **where))["status"] == "declined"
    assert (await send(api, op, part + "decline-review", **where))["status"] == "accepted"
    assert (await send(api, dc_cgw, part + "report", **where))["status"] == "done"

    done = await send(api, lighting, appeal + "complete", appeal_no=no)
    assert done["status"] == "awaiting_evaluation"
    closed = await send(api, op, appeal + "evaluation", which=1, appeal_no=no)
    assert (closed["status"], closed["outcome"]) == ("closed", "resolved")
