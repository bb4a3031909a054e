"""The administrator's pages in a real browser: a new account made from the form (refusals by
their field first), the new user logging in, then disabled (their session ends at their next
page); the reference data at a glance; the stuck-case queries as links into the Temporal UI; the
audit of who saw a citizen's contact."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from db.users import DemoUser, ensure_users
from domain.types import Role
from tests.api.conftest import PASSWORD
from tests.api.test_appeals_e2e import intake, street_lights

pytestmark = pytest.mark.usefixtures("appeal_worker")

ADMIN = DemoUser("console-admin", "系统管理员", Role.ADMINISTRATOR)
NEW_PASSWORD = "lamp-keeper-2026"


@pytest.fixture
async def admin(person, engine):
    await ensure_users(engine, (ADMIN,), PASSWORD)
    return await person(ADMIN.username)


async def submit(who, form: str) -> None:
    async with who.page.expect_navigation():
        await who.page.click(f"{form} button[type=submit]")


async def test_an_admin_creates_a_user_who_logs_in_and_is_then_disabled(admin, person):
    name = f"zhang-{uuid.uuid4().hex[:6]}"
    await admin.goto("/console/admin")
    form = admin.page.locator("#create-user")
    await form.locator('[name="username"]').fill(name)
    await form.locator('[name="display_name"]').fill("张工（照明中心）")
    await form.locator('[name="role"]').select_option("unit_staff")
    await form.locator('[name="password"]').fill("short")
    await submit(admin, "#create-user")
    error = form.locator(".has-error .field-error")
    assert await error.count() == 1 and "12" in await error.inner_text()
    assert await error.evaluate("e => e.closest('.field').querySelector('[name]').name") == "password"
    assert await form.locator('[name="username"]').input_value() == name  # kept; the password is not
    await admin.shot("admin-create-refused")

    # unit staff without their unit: said by the unit field
    await form.locator('[name="password"]').fill(NEW_PASSWORD)
    await submit(admin, "#create-user")
    assert await error.evaluate("e => e.closest('.field').querySelector('[name]').name") == "unit"
    assert "unit" in await error.inner_text()

    await form.locator('[name="unit"]').fill("BJ-LIGHTING")
    await form.locator('[name="password"]').fill(NEW_PASSWORD)
    await submit(admin, "#create-user")
    assert name in await admin.page.locator(".flash").inner_text()
    row = admin.page.locator(f'#users tr[data-username="{name}"]')
    assert "张工（照明中心）" in await row.inner_text() and "北京市城市照明管理中心" in await row.inner_text()
    await admin.shot("admin-users")

    # the new user logs in and works in the unit's inbox
    zhang = await person()
    await zhang.login(name, NEW_PASSWORD)
    assert zhang.page.url.endswith("/console/inbox")
    assert "张工（照明中心）" in await zhang.page.locator("header .user").inner_text()

    # disabled: their next page is the login page
    await admin.goto(f"/console/admin/users/{name}")
    await submit(admin, "#user-disable")
    assert "done=disabled" in admin.page.url and await admin.page.locator("#user-disabled").count() == 1
    await admin.shot("admin-user-disabled")
    await zhang.goto("/console/inbox")
    assert "/console/login" in zhang.page.url
    await zhang.page.fill("#login-form input[name=username]", name)
    await zhang.page.fill("#login-form input[name=password]", NEW_PASSWORD)
    await submit(zhang, "#login-form")
    assert "/console/login" in zhang.page.url and await zhang.page.locator("p.error").count() == 1
    # an administrator is offered no way to disable themself
    await admin.goto(f"/console/admin/users/{ADMIN.username}")
    assert await admin.page.locator("#user-disable").count() == 0
    assert admin.errors == [] or all("status of 422" in e for e in admin.errors)


async def test_rebinding_and_a_new_password_from_the_users_page(admin, person):
    name = f"li-{uuid.uuid4().hex[:6]}"
    await admin.goto("/console/admin")
    form = admin.page.locator("#create-user")
    await form.locator('[name="username"]').fill(name)
    await form.locator('[name="role"]').select_option("supervisor")
    await form.locator('[name="district"]').select_option("110101")
    await form.locator('[name="password"]').fill(NEW_PASSWORD)
    await submit(admin, "#create-user")
    await admin.goto(f"/console/admin/users/{name}")
    # to unit staff without a unit: refused by the unit field, what was chosen kept
    bind = admin.page.locator("#bind-user")
    await bind.locator('[name="role"]').select_option("unit_staff")
    await bind.locator('[name="district"]').select_option("")
    await submit(admin, "#bind-user")
    error = bind.locator(".has-error .field-error")
    assert await error.evaluate("e => e.closest('.field').querySelector('[name]').name") == "unit"
    assert await bind.locator('[name="role"]').input_value() == "unit_staff"
    await bind.locator('[name="unit"]').fill("BJ-WATER")
    await submit(admin, "#bind-user")
    assert "done=saved" in admin.page.url and "BJ-WATER" in await admin.page.locator("dl.facts").inner_text()
    # a new password
    await admin.page.locator('#user-password [name="password"]').fill("water-works-2026")
    await submit(admin, "#user-password")
    assert "done=password" in admin.page.url
    li = await person()
    await li.login(name, "water-works-2026")
    assert "自来水" in await li.page.locator("header .user").inner_text()


async def test_reference_data_stuck_case_links_and_the_audit(admin, person, api, tokens, settings):
    await admin.goto("/console/admin/reference")
    streets = admin.page.locator('#units-by-kind tr[data-kind="street"] td.num')
    assert int(await streets.inner_text()) == (await api.get("/units", params={"kind": "street"})).json()["total"] > 0
    assert "安定门街道" in await admin.page.locator("table.units").inner_text()  # the streets are listed first
    policies = await admin.page.locator("table.policies").inner_text()
    assert "投诉" in policies and "工作日" in policies
    assert "派单目录" in await admin.page.locator("#categories").inner_text()
    await admin.shot("admin-reference")

    await admin.goto("/console/admin/temporal")
    links = admin.page.locator("#stuck-cases a")
    assert await links.count() >= 15
    href = await admin.page.locator('#stuck-cases tr[data-key="tq.overdue"] a').get_attribute("href")
    assert href.startswith(f"{settings.temporal_ui}/namespaces/{settings.temporal_namespace}/workflows?query=")
    assert parse_qs(urlsplit(href).query)["query"] == [
        "WorkflowType = 'AppealWorkflow' AND ExecutionStatus = 'Running' AND Overdue = true"
    ]
    await admin.page.locator('#temporal-one [name="unit"]').fill("NOPE")
    await admin.page.locator('#temporal-one [name="appeal_no"]').fill("BJ-20261203-000042")
    await submit(admin, "#temporal-one")
    assert await admin.page.locator("#temporal-one .has-error [name=unit]").count() == 1
    mine = await admin.page.locator("#my-queries a").evaluate_all("els => els.map(e => e.href)")
    assert [parse_qs(urlsplit(h).query)["query"][0] for h in mine] == [
        "WorkflowId = 'appeal-BJ-20261203-000042'",
        "ParentWorkflowId = 'appeal-BJ-20261203-000042'",
    ]
    await admin.shot("admin-temporal")

    # the lighting centre sees the citizen's contact in full (its open order): the audit lists it
    no = (await intake(api, tokens, street_lights(content="路灯不亮，审计测试")))["appeal"]["appeal_no"]
    assert (await api.get(f"/appeals/{no}/contact", headers=tokens["lighting"])).status_code == 200
    await admin.goto(f"/console/admin/audit?appeal_no={no}")
    rows = admin.page.locator("#audit tbody tr")
    assert await rows.count() == 1 and "lighting" in await rows.inner_text()
    assert "+08:00" in await rows.inner_text()
    await admin.shot("admin-audit")

    # the administrator's pages are the administrator's
    analyst = await person("analyst")
    for path in ("/console/admin", "/console/admin/reference", "/console/admin/temporal", "/console/admin/audit"):
        response = await analyst.goto(path)
        assert response.status == 403, path
