"""Staff accounts through the API (administrators only): create with a binding that suits the
role, refusals by field, re-binding, disabling (its tokens stop at once) and enabling, a new
password; never a password hash in an answer; an administrator cannot lock themself out."""

from __future__ import annotations

import uuid

import pytest
import pytest_asyncio

from db.users import DemoUser, ensure_users
from domain.types import Role
from tests.api.conftest import PASSWORD

ADMIN = DemoUser("users-admin", "Administrator (users API)", Role.ADMINISTRATOR)
NEW_PASSWORD = "a-first-password-1"


@pytest_asyncio.fixture(scope="module")
async def admin(api, engine, tokens) -> dict[str, str]:
    await ensure_users(engine, (ADMIN,), PASSWORD)
    return await login(api, ADMIN.username, PASSWORD)


async def login(api, username: str, password: str, status: int = 200) -> dict[str, str]:
    r = await api.post("/auth/token", json={"username": username, "password": password})
    assert r.status_code == status, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"} if status == 200 else {}


def fresh(prefix: str = "staff") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def create(api, admin, status: int = 201, **body) -> dict:
    body = {"username": fresh(), "role": "operator", "password": NEW_PASSWORD} | body
    r = await api.post("/users", json=body, headers=admin)
    assert r.status_code == status, r.text
    return r.json()


def no_secret(answer) -> None:
    text = str(answer)
    assert "password" not in text and "argon2" not in text, text


async def test_an_account_is_created_listed_and_logs_in_without_its_hash_ever_shown(api, admin):
    name = "lighting-zhang"  # the first account the story makes (its answers are the examples of /docs)
    made = await create(
        api, admin, username=name, display_name=" 张工（城市照明管理中心） ", role="unit_staff", unit="BJ-LIGHTING"
    )
    assert (made["username"], made["display_name"], made["role"], made["unit"], made["district"], made["active"]) == (
        name,
        "张工（城市照明管理中心）",
        "unit_staff",
        "BJ-LIGHTING",
        None,
        True,
    )
    assert made["created_at"].endswith("+08:00")
    no_secret(made)
    me = (await api.get("/auth/me", headers=await login(api, name, NEW_PASSWORD))).json()
    assert (me["role"], me["unit"]) == ("unit_staff", "BJ-LIGHTING")

    listed = (await api.get("/users", params={"q": name}, headers=admin)).json()
    assert [u["username"] for u in listed["items"]] == [name] and listed["total"] == 1
    no_secret(listed)
    by_unit = (await api.get("/users", params={"unit": "BJ-LIGHTING", "limit": 200}, headers=admin)).json()
    assert name in [u["username"] for u in by_unit["items"]] and {u["unit"] for u in by_unit["items"]} == {
        "BJ-LIGHTING"
    }
    assert (await api.get(f"/users/{name}", headers=admin)).json() == made
    # a supervisor of a district; an unbound display name is the username
    sup = await create(api, admin, role="supervisor", district="110105")
    assert (sup["district"], sup["display_name"]) == ("110105", sup["username"])
    supervisors = (await api.get("/users", params={"role": "supervisor", "limit": 200}, headers=admin)).json()
    assert sup["username"] in [u["username"] for u in supervisors["items"]]
    assert {u["role"] for u in supervisors["items"]} == {"supervisor"}


async def test_only_administrators_manage_accounts(api, tokens, admin):
    someone = await create(api, admin)
    name = someone["username"]
    calls = [
        ("GET", "/users", None),
        ("POST", "/users", {"username": fresh(), "role": "operator", "password": NEW_PASSWORD}),
        ("GET", f"/users/{name}", None),
        ("PATCH", f"/users/{name}", {"display_name": "x"}),
        ("POST", f"/users/{name}/disable", None),
        ("POST", f"/users/{name}/enable", None),
        ("POST", f"/users/{name}/password", {"password": "another-password-2"}),
    ]
    for method, path, body in calls:
        assert (await api.request(method, path, json=body)).status_code == 401, (method, path)
        for user in ("op", "lighting", "supervisor", "dongcheng-sup", "analyst"):
            r = await api.request(method, path, json=body, headers=tokens[user])
            assert r.status_code == 403, (method, path, user, r.text)
            assert r.json()["error"]["code"] == "forbidden"
    # nothing changed: the account still logs in with its first password
    await login(api, name, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        ({"role": "unit_staff", "unit": "NOPE"}, 422, "unit", "unknown unit"),
        ({"role": "supervisor", "district": "999999"}, 422, "district", "unknown district"),
        ({"role": "unit_staff"}, 422, "unit", "need their unit"),
        ({"role": "unit_staff", "unit": "  "}, 422, "unit", "need their unit"),
        ({"role": "operator", "unit": "BJ-LIGHTING"}, 422, "unit", "only unit staff"),
        ({"role": "analyst", "district": "110105"}, 422, "district", "only a supervisor"),
        ({"role": "unit_staff", "unit": "BJ-LIGHTING", "district": "110105"}, 422, "district", "not a district"),
        ({"password": "short-11-ch"}, 422, "password", "12 characters"),
        ({"username": "has space"}, 422, "username", "pattern"),
        ({"username": ""}, 422, "username", "pattern"),
        ({"role": "boss"}, 422, "role", "operator"),
    ],
)
async def test_a_refused_account_names_the_field_and_the_reason(api, admin, body, status, field, words):
    name = body.get("username", fresh())
    error = (await create(api, admin, status=status, **(body | {"username": name})))["error"]
    assert [d["field"] for d in error["details"]] == [field], error
    assert words in error["details"][0]["message"], error
    if name:
        assert (await api.get(f"/users/{name}", headers=admin)).status_code in (404, 422)


async def test_a_taken_username_is_a_409_on_its_field(api, admin):
    first = await create(api, admin)
    error = (await create(api, admin, status=409, username=first["username"], role="analyst"))["error"]
    assert error["code"] == "conflict" and error["details"][0]["field"] == "username"
    assert (await api.get(f"/users/{first['username']}", headers=admin)).json()["role"] == "operator"


async def test_disabling_ends_the_accounts_sessions_and_enabling_lets_it_log_in_again(api, admin):
    made = await create(api, admin)
    name = made["username"]
    token = await login(api, name, NEW_PASSWORD)
    assert (await api.get("/auth/me", headers=token)).status_code == 200
    disabled = (await api.post(f"/users/{name}/disable", headers=admin)).json()
    assert disabled["active"] is False
    assert (await api.get("/auth/me", headers=token)).status_code == 401  # the token it had stops at once
    await login(api, name, NEW_PASSWORD, status=401)
    inactive = (await api.get("/users", params={"active": "false", "limit": 200}, headers=admin)).json()
    assert name in [u["username"] for u in inactive["items"]] and not any(u["active"] for u in inactive["items"])
    assert (await api.post(f"/users/{name}/enable", headers=admin)).json()["active"] is True
    # the sessions it had stay ended: it logs in again
    r = await api.get("/auth/me", headers=token)
    assert r.status_code == 401 and "log in again" in r.json()["error"]["message"]
    again = await login(api, name, NEW_PASSWORD)
    assert (await api.get("/auth/me", headers=again)).status_code == 200


async def test_an_administrator_cannot_lock_themself_out(api, admin):
    r = await api.post(f"/users/{ADMIN.username}/disable", headers=admin)
    assert r.status_code == 409 and r.json()["error"]["details"][0]["field"] == "username"
    r = await api.patch(f"/users/{ADMIN.username}", json={"role": "analyst"}, headers=admin)
    assert r.status_code == 409 and r.json()["error"]["details"][0]["field"] == "role"
    assert (await api.get("/auth/me", headers=admin)).json()["role"] == "administrator"
    # renaming oneself is fine
    r = await api.patch(f"/users/{ADMIN.username}", json={"display_name": "系统管理员"}, headers=admin)
    assert r.status_code == 200 and r.json()["display_name"] == "系统管理员"


async def test_a_new_password_replaces_the_old_one(api, admin):
    name = (await create(api, admin))["username"]
    r = await api.post(f"/users/{name}/password", json={"password": "too-short"}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "password"
    r = await api.post(f"/users/{name}/password", json={"password": "the-second-password"}, headers=admin)
    assert r.status_code == 200, r.text
    no_secret(r.json())
    await login(api, name, NEW_PASSWORD, status=401)
    await login(api, name, "the-second-password")


async def test_a_new_password_ends_the_sessions_issued_before_it(api, admin, tokens):
    name = (await create(api, admin))["username"]
    before = await login(api, name, NEW_PASSWORD)
    assert (await api.get("/auth/me", headers=before)).status_code == 200
    r = await api.post(f"/users/{name}/password", json={"password": "the-third-password"}, headers=admin)
    assert r.status_code == 200, r.text
    r = await api.get("/auth/me", headers=before)  # a leaked token stops at once
    assert r.status_code == 401 and "log in again" in r.json()["error"]["message"]
    after = await login(api, name, "the-third-password")
    assert (await api.get("/auth/me", headers=after)).json()["username"] == name
    # nobody else's sessions end
    assert (await api.get("/auth/me", headers=tokens["op"])).status_code == 200
    assert (await api.get("/auth/me", headers=admin)).status_code == 200


async def test_rebinding_moves_an_account_to_another_unit_or_role(api, admin):
    name = (await create(api, admin, role="unit_staff", unit="BJ-LIGHTING"))["username"]
    token = await login(api, name, NEW_PASSWORD)
    moved = await api.patch(f"/users/{name}", json={"unit": "BJ-WATER"}, headers=admin)
    assert moved.status_code == 200 and moved.json()["unit"] == "BJ-WATER"
    assert (await api.get("/auth/me", headers=token)).json()["unit"] == "BJ-WATER"  # at its next request
    # a supervisor is bound to no unit: the change says which field is at fault
    r = await api.patch(f"/users/{name}", json={"role": "supervisor", "district": "110105"}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "unit"
    r = await api.patch(f"/users/{name}", json={"unit": "NOPE"}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "unit"
    r = await api.patch(
        f"/users/{name}", json={"role": "supervisor", "unit": None, "district": "110105"}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert (r.json()["role"], r.json()["unit"], r.json()["district"]) == ("supervisor", None, "110105")
    me = (await api.get("/auth/me", headers=token)).json()
    assert (me["role"], me["unit"], me["district"]) == ("supervisor", None, "110105")
    # the city: unbound
    r = await api.patch(f"/users/{name}", json={"district": None}, headers=admin)
    assert r.status_code == 200 and r.json()["district"] is None
    assert (await api.patch("/users/nobody-here", json={"display_name": "x"}, headers=admin)).status_code == 404
    assert (await api.post("/users/nobody-here/disable", headers=admin)).status_code == 404
