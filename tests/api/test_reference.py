"""Units, catalogue, routing, policies and calendar through the HTTP API."""

import pytest


async def test_units_filter_by_kind_and_district(api):
    r = await api.get("/units", params={"kind": "street", "district": "110105"})
    assert r.status_code == 200
    body = r.json()
    names = {u["name_zh"] for u in body["items"]}
    assert {"朝外街道", "亚运村街道"} <= names
    assert body["total"] == len(body["items"])
    assert all(u["parent_code"] == "110105-GOV" for u in body["items"])


async def test_units_are_paged(api):
    first = (await api.get("/units", params={"limit": 5})).json()
    second = (await api.get("/units", params={"limit": 5, "offset": 5})).json()
    assert len(first["items"]) == 5 and first["total"] > 100
    assert not {u["code"] for u in first["items"]} & {u["code"] for u in second["items"]}


async def test_unit_search_by_chinese_name(api):
    items = (await api.get("/units", params={"q": "照明"})).json()["items"]
    assert [u["code"] for u in items] == ["BJ-LIGHTING"]


async def test_unknown_unit_is_404_in_the_error_shape(api):
    r = await api.get("/units/NOPE")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "params,field",
    [({"kind": "palace"}, "kind"), ({"district": "abc"}, "district"), ({"limit": 0}, "limit")],
)
async def test_bad_filters_are_422_naming_the_field(api, params, field):
    r = await api.get("/units", params=params)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"].endswith(field)


async def test_catalogue_is_a_tree(api):
    body = (await api.get("/catalogue")).json()
    assert body["count"] >= 60
    muni = next(c for c in body["categories"] if c["code"] == "MUNI")
    assert any(ch["code"] == "MUNI.STREETLIGHT" for ch in muni["children"])


@pytest.mark.parametrize(
    "params,unit,reason",
    [
        # the street-lights story: 安定门 hutong lights go to the city lighting centre
        ({"category": "MUNI.STREETLIGHT", "street": "110101-ANDINGMEN"}, "BJ-LIGHTING", "rule"),
        # district department by place
        ({"category": "CITY.CLEANING", "district": "110108"}, "110108-CGW", "rule"),
        # garbage: the street where it happened
        ({"category": "CITY.GARBAGE", "street": "110105-CHAOWAI"}, "110105-CHAOWAI", "local_street"),
        # same category, no street known: the district government is the backstop
        ({"category": "CITY.GARBAGE", "district": "110105"}, "110105-GOV", "backstop"),
    ],
)
async def test_route_by_catalogue(api, params, unit, reason):
    r = await api.get("/catalogue/route", params=params)
    assert r.status_code == 200, r.text
    assert (r.json()["unit"]["code"], r.json()["reason"]) == (unit, reason)


@pytest.mark.parametrize(
    "params,code",
    [
        ({"category": "NOPE"}, "validation_error"),
        ({"category": "CITY.GARBAGE"}, "no_route"),  # neither street nor district
        ({"category": "CITY.GARBAGE", "street": "110105-CHAOWAI", "district": "110101"}, "validation_error"),
        ({"category": "CITY.GARBAGE", "street": "BJ-LIGHTING"}, "validation_error"),
    ],
)
async def test_unroutable_requests_are_422(api, params, code):
    r = await api.get("/catalogue/route", params=params)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == code


async def test_policies_and_calendar(api):
    policies = (await api.get("/policies")).json()
    assert len(policies) == 20
    days = (await api.get("/calendar", params={"from": "2026-10-01", "to": "2026-10-10"})).json()
    assert {d["day"] for d in days if d["kind"] == "holiday"} >= {"2026-10-01", "2026-10-07"}
    r = await api.get("/calendar", params={"from": "2026-10-10", "to": "2026-10-01"})
    assert r.status_code == 422


async def test_openapi_docs_are_served(api):
    assert (await api.get("/docs")).status_code == 200
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert {"/healthz", "/units", "/catalogue", "/catalogue/route"} <= set(paths)
