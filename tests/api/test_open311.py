"""Open311 GeoReport v2: every answer checked against the spec's field lists in JSON and XML,
filing through the same intake as POST /appeals, following an appeal to `closed`, and what the
public may never see."""

from __future__ import annotations

import time
import uuid

import pytest
import pytest_asyncio
import sqlalchemy as sa

from api.main import create_app
from db.channels import create_channel, revoke_channel
from tests.api import open311_spec as spec
from tests.api.conftest import serve
from tests.api.test_appeals_e2e import act, wait_for

pytestmark = pytest.mark.usefixtures("appeal_worker")

V2 = "/open311/v2"
ANDINGMEN = {"lat": "39.9462", "long": "116.4057"}  # by 安定门 (Dongcheng): street lights → BJ-LIGHTING


@pytest_asyncio.fixture(scope="module")
async def keys(engine) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:6]
    return {
        "app": await create_channel(engine, f"city-app-{suffix}", kind="app"),
        "partner": await create_channel(engine, f"partner-{suffix}", trusted=True, kind="wechat"),
    }


def lights(key: str, **over) -> dict:
    return {
        "api_key": key, "service_code": "MUNI.STREETLIGHT", **ANDINGMEN,
        "address_string": "安定门内大街方家胡同口", "attribute[appeal_type]": "complaint",
        "description": f"路灯不亮 {uuid.uuid4().hex[:8]}", "first_name": "先生", "last_name": "刘",
        "phone": "13812345678", "email": "liu@example.cn",
    } | over


async def file(api, params: dict, fmt: str = "json", status: int = 201):
    r = await api.post(f"{V2}/requests.{fmt}", data=params)
    assert r.status_code == status, r.text
    if fmt == "json":
        spec.check_json(spec.CREATED, r.json())
        return r.json()[0]
    tree = spec.check_xml(spec.CREATED, r.content, "service_requests")
    return {c.tag: c.text for c in tree[0]}


# --- the catalogue -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_services_conform(api, fmt):
    r = await api.get(f"{V2}/services.{fmt}")
    assert r.status_code == 200, r.text
    if fmt == "json":
        spec.check_json(spec.SERVICE, r.json())
        found = {s["service_code"]: s for s in r.json()}
    else:
        assert r.headers["content-type"].startswith("text/xml")
        tree = spec.check_xml(spec.SERVICE, r.content, "services")
        found = {n.find("service_code").text: {c.tag: c.text for c in n} for n in tree}
    lights = found["MUNI.STREETLIGHT"]
    assert lights["service_name"] == "路灯不亮/路灯故障" and lights["group"] == "市政设施"
    assert str(lights["metadata"]).lower() == "true"


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_service_definition_conforms(api, fmt):
    r = await api.get(f"{V2}/services/MUNI.STREETLIGHT.{fmt}")
    assert r.status_code == 200, r.text
    if fmt == "json":
        spec.check_definition_json(r.json())
        attrs = {a["code"]: a for a in r.json()["attributes"]}
        assert attrs["appeal_type"]["required"] is True
        assert {v["key"] for v in attrs["appeal_type"]["values"]} >= {"complaint", "report"}
        assert "110101-ANDINGMEN" in {v["key"] for v in attrs["street"]["values"]}
        assert [a["order"] for a in r.json()["attributes"]] == [1, 2, 3, 4]
    else:
        tree = spec.check_definition_xml(r.content)
        assert tree.find("service_code").text == "MUNI.STREETLIGHT"
    missing = await api.get(f"{V2}/services/NO.SUCH.{fmt}")
    assert "NO.SUCH" in spec.check_error(missing, 404, fmt)


# --- filing ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_bad_or_missing_api_key_is_403(api, fmt):
    bad = await api.post(f"{V2}/requests.{fmt}", data=lights("not-a-key"))
    spec.check_error(bad, 403, fmt)
    params = lights("x")
    del params["api_key"]
    spec.check_error(await api.post(f"{V2}/requests.{fmt}", data=params), 403, fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_unknown_service_code_is_400(api, keys, fmt):
    r = await api.post(f"{V2}/requests.{fmt}", data=lights(keys["app"], service_code="NO.SUCH"))
    assert "service_code" in spec.check_error(r, 400, fmt)


async def test_missing_fields_are_400_naming_them(api, keys):
    for drop, named in (("attribute[appeal_type]", "appeal_type"), ("description", "description")):
        params = lights(keys["app"])
        del params[drop]
        assert named in spec.check_error(await api.post(f"{V2}/requests.json", data=params), 400, "json")
    nowhere = {k: v for k, v in lights(keys["app"]).items() if k not in ("lat", "long", "address_string")}
    assert "location" in spec.check_error(await api.post(f"{V2}/requests.json", data=nowhere), 400, "json")
    shanghai = lights(keys["app"], lat="31.23", long="121.47")
    assert "outside Beijing" in spec.check_error(await api.post(f"{V2}/requests.json", data=shanghai), 400, "json")
    phone = lights(keys["app"], phone="call me")
    assert "phone" in spec.check_error(await api.post(f"{V2}/requests.json", data=phone), 400, "json")


async def test_a_retried_post_makes_one_appeal(api, keys, engine, tokens):
    params = lights(keys["app"])
    first = await file(api, params)
    again = await file(api, params, status=200)
    assert again["service_request_id"] == first["service_request_id"]
    other = await file(api, params | {"description": params["description"] + "（另一处）"})
    assert other["service_request_id"] != first["service_request_id"]
    async with engine.connect() as conn:
        count = await conn.scalar(sa.text("SELECT count(*) FROM appeal WHERE content = :c"),
                                  {"c": params["description"]})
    assert count == 1
    # placed by its coordinates, at the nearest street office, and the answer says so
    assert "安定门街道" in first["service_notice"] and "最近的街道办事处" in first["service_notice"]
    staff = (await api.get(f"/appeals/{first['service_request_id']}", headers=tokens["op"])).json()
    assert staff["street"] == "110101-ANDINGMEN" and staff["channel"] == "app"


async def test_personal_data_sealed_never_public_never_in_temporal(api, keys, engine, dev_env, settings):
    params = lights(keys["partner"], phone="13911112222")
    created = await file(api, params, fmt="xml")
    no = created["service_request_id"]
    assert created["citizen_token"]  # a trusted channel holds the citizen's token ...
    assert "citizen_token" not in await file(api, lights(keys["app"]))  # ... an untrusted one never
    async with engine.connect() as conn:
        contact = (await conn.execute(sa.text("SELECT name, phone FROM citizen_contact WHERE appeal_no = :n"),
                                      {"n": no})).one()
    assert "13911112222" not in contact.phone and "刘" not in contact.name  # sealed
    for fmt in ("json", "xml"):
        shown = (await api.get(f"{V2}/requests/{no}.{fmt}")).text
        assert "13911112222" not in shown and "刘先生" not in shown and params["description"] not in shown
    history = await dev_env.client.get_workflow_handle(f"appeal-{no}").fetch_history()
    dumped = history.to_json()
    for secret in ("13911112222", "刘先生", params["description"], "liu@example.cn"):
        assert secret not in dumped
    # the citizen's token opens the appeal in jiesu's own API, as at intake
    r = await api.get(f"/appeals/{no}", headers={"X-Citizen-Token": created["citizen_token"]})
    assert r.status_code == 200


# --- following ---------------------------------------------------------------------------


async def _public(api, no: str, fmt: str = "json") -> dict:
    r = await api.get(f"{V2}/requests/{no}.{fmt}")
    assert r.status_code == 200, r.text
    if fmt == "json":
        spec.check_json(spec.REQUEST, r.json())
        return r.json()[0]
    tree = spec.check_xml(spec.REQUEST, r.content, "service_requests")
    return {c.tag: c.text for c in tree[0]}


async def test_filed_dispatched_handled_closed_with_the_units_notes(api, keys, tokens):
    since = time.time()
    no = (await file(api, lights(keys["app"])))["service_request_id"]
    await wait_for(api, tokens["op"], no, lambda b: b["status"] == "dispatched")
    seen = await _public(api, no)
    assert seen["status"] == "open" and seen["agency_responsible"] == "北京市城市照明管理中心"
    assert seen["expected_datetime"] and seen["description"] is None
    await act(api, tokens["lighting"], no, "accept")
    await act(api, tokens["lighting"], no, "contact", {"note": "到现场查看"})
    await act(api, tokens["lighting"], no, "complete", {"result": "已更换路灯灯泡 3 盏，联系电话 13700001111"})
    for fmt in ("json", "xml"):
        seen = await _public(api, no, fmt)
        assert seen["status"] == "closed"
        assert seen["status_notes"].startswith("已更换路灯灯泡 3 盏")
        assert "13700001111" not in seen["status_notes"]  # scrubbed
    listed = (await api.get(f"{V2}/requests.json", params={"service_request_id": no, "status": "closed"})).json()
    assert [r["service_request_id"] for r in listed] == [no]
    # the updates extension: what changed since a time, oldest first, ending with the closing report
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since - 1))
    for fmt in ("json", "xml"):
        r = await api.get(f"{V2}/servicerequestupdates.{fmt}", params={"start_date": start})
        assert r.status_code == 200, r.text
        if fmt == "json":
            spec.check_json(spec.UPDATE, r.json())
            mine = [u for u in r.json() if u["service_request_id"] == no]
        else:
            tree = spec.check_xml(spec.UPDATE, r.content, "service_requests_updates")
            mine = [{c.tag: c.text for c in n} for n in tree if n.find("service_request_id").text == no]
        assert [u["status"] for u in mine][-1] == "closed"
        assert "accepted" not in [u["description"] for u in mine]  # in words
        assert mine[-1]["description"].startswith("已更换路灯灯泡")


async def test_reports_are_never_listed(api, keys, tokens):
    no = (await file(api, lights(keys["partner"], **{"attribute[appeal_type]": "report"})))["service_request_id"]
    staff = (await api.get(f"/appeals/{no}", headers=tokens["op"])).json()
    assert staff["appeal_type"] == "report"
    for fmt in ("json", "xml"):
        spec.check_error(await api.get(f"{V2}/requests/{no}.{fmt}"), 404, fmt)
    listed = (await api.get(f"{V2}/requests.json", params={"service_request_id": no})).json()
    assert listed == []
    page = (await api.get(f"{V2}/requests.json", params={"page_size": 1000})).json()
    assert no not in {r["service_request_id"] for r in page}


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_request_list_conforms_and_filters(api, keys, fmt):
    no = (await file(api, lights(keys["app"])))["service_request_id"]
    r = await api.get(f"{V2}/requests.{fmt}", params={"service_code": "MUNI.STREETLIGHT", "status": "open"})
    assert r.status_code == 200, r.text
    if fmt == "json":
        spec.check_json(spec.REQUEST, r.json())
        items = r.json()
    else:
        items = [{c.tag: c.text for c in n} for n in spec.check_xml(spec.REQUEST, r.content, "service_requests")]
    assert {i["service_code"] for i in items} == {"MUNI.STREETLIGHT"} and no in {i["service_request_id"] for i in items}
    assert {i["status"] for i in items} == {"open"}
    bad = await api.get(f"{V2}/requests.{fmt}", params={"start_date": "yesterday"})
    assert "start_date" in spec.check_error(bad, 400, fmt)
    spec.check_error(await api.get(f"{V2}/requests.{fmt}", params={"status": "pending"}), 400, fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_tokens(api, keys, fmt):
    created = await file(api, lights(keys["app"]))
    r = await api.get(f"{V2}/tokens/{created['token']}.{fmt}")
    assert r.status_code == 200, r.text
    if fmt == "json":
        spec.check_json(spec.TOKEN, r.json())
        assert r.json()[0]["service_request_id"] == created["service_request_id"]
    else:
        tree = spec.check_xml(spec.TOKEN, r.content, "service_requests")
        assert tree[0].find("service_request_id").text == created["service_request_id"]
    forged = created["token"][:-2] + ("00" if not created["token"].endswith("00") else "11")
    spec.check_error(await api.get(f"{V2}/tokens/{forged}.{fmt}"), 404, fmt)


# --- channel keys ------------------------------------------------------------------------


async def test_a_revoked_key_stops_at_once(api, engine):
    name = f"revoked-{uuid.uuid4().hex[:6]}"
    key = await create_channel(engine, name)
    await file(api, lights(key))
    assert await revoke_channel(engine, name)
    spec.check_error(await api.post(f"{V2}/requests.json", data=lights(key)), 403, "json")
    spec.check_error(await api.get(f"{V2}/services.json", params={"api_key": key}), 403, "json")


async def test_rate_limited_per_key(settings, engine, dev_env):
    app = create_app(settings.model_copy(update={"open311_rate_per_minute": 2}), engine=engine,
                     temporal=dev_env.client)
    one = await create_channel(engine, f"limited-{uuid.uuid4().hex[:6]}")
    other = await create_channel(engine, f"limited-{uuid.uuid4().hex[:6]}")
    async with serve(app) as client:
        for _ in range(2):
            assert (await client.get(f"{V2}/services.json", params={"api_key": one})).status_code == 200
        r = await client.get(f"{V2}/services.xml", params={"api_key": one})
        spec.check_error(r, 429, "xml")
        assert int(r.headers["Retry-After"]) > 0
        assert (await client.get(f"{V2}/services.json", params={"api_key": other})).status_code == 200


async def test_unknown_format_and_jurisdiction(api):
    r = await api.get(f"{V2}/services.html")
    spec.check_error(r, 404, "json")
    spec.check_error(await api.get(f"{V2}/services.xml", params={"jurisdiction_id": "shanghai"}), 404, "xml")
    assert (await api.get(f"{V2}/services.json", params={"jurisdiction_id": "beijing"})).status_code == 200


HOSTILE_PATHS = [
    "/services/%00.json", "/services/a%01b.xml", "/requests/%7F.json", "/tokens/%1F.xml",
    "/requests/" + "9" * 5000 + ".json", "/services/MUNI.STREETLIGHT.%FF",
]
HOSTILE_QUERIES = [
    {"start_date": "9999-12-31T23:59:59Z"}, {"end_date": "0.5"}, {"page_size": "1e20"}, {"page": "-1"},
    {"page": "99999999999999999999"}, {"service_request_id": "," * 3000}, {"status": "\u0000"},
    {"start_date": "2026-12-01T00:00:00+08:00", "end_date": "2026-01-01T00:00:00+08:00"},
]
BAD_HEADERS = [{"Authorization": b"Bearer abc.\xff\xfe"}, {"X-Citizen-Token": b"\xff\xe9\x00abc"}]


async def test_hostile_input_is_4xx_never_5xx(api, keys):
    for path in HOSTILE_PATHS:
        r = await api.get(V2 + path)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])
    for params in HOSTILE_QUERIES:
        for route in ("/requests.json", "/servicerequestupdates.xml"):
            r = await api.get(V2 + route, params=params)
            assert 400 <= r.status_code < 500 or r.status_code == 200, (route, params, r.text[:200])
            if r.status_code >= 400 and r.headers["content-type"].startswith("text/xml"):
                spec.check_error(r, r.status_code, "xml")
    for headers in BAD_HEADERS:
        assert (await api.get(f"{V2}/services.json", headers=headers)).status_code == 200
    for body in ("not=form&&&=", "\u00ff" * 10, "api_key=" + "k" * 5000):
        r = await api.post(f"{V2}/requests.json", content=body.encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        spec.check_error(r, 403, "json")
    r = await api.post(f"{V2}/requests.json", content=b"[1,2]", headers={"Content-Type": "application/json"})
    spec.check_error(r, 400, "json")
    huge = lights(keys["app"], description="路" * 6000)
    assert "description" in spec.check_error(await api.post(f"{V2}/requests.json", data=huge), 400, "json")
    far = lights(keys["app"], lat="1e308", long="nan")
    spec.check_error(await api.post(f"{V2}/requests.json", data=far), 400, "json")
