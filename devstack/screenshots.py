"""Screenshots of the Temporal UI for docs/: `python -m devstack.screenshots`.

Starts a private dev stack (the `make dev` launcher on a temporary data folder and free ports,
never `.data/` or a stack already running), records a few appeals through the API as the README
does — the street-lights order with a co-handling part, an emergency water outage left to pass
its contact limit, an objection, a few more — then drives Debian's Chromium with Playwright:
the workflow list with the recommended columns, and the water outage's page (overdue,
escalated) with its current details and timer summaries. Writes docs/img/temporal-ui-list.png
and docs/img/temporal-ui-appeal.png. About three minutes, much of it waiting for the water
outage's one-minute contact limit (set in the private stack's policy table) to pass. `--hold`
keeps the stack running with its appeals instead, to look around.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from db.session import make_engine
from db.users import DEMO_PASSWORD
from devstack.__main__ import Stack
from devstack.ports import free_port
from infra.ui_views import COLUMNS
from settings import PROJECT_ROOT, Settings

IMG = PROJECT_ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
#: the list's columns: the UI's own first, then the project's search attributes
LIST_COLUMNS = ["Status", "Workflow ID", *COLUMNS]
#: an emergency request for help gets one minute to contact the citizen (the private stack only)
SHORT_CONTACT = (
    "UPDATE time_limit_policy SET contact_limit = 1, contact_limit_unit = 'minutes' "
    "WHERE urgency = 'emergency' AND appeal_type = 'help'"
)


def private_stack(data_dir: Path) -> tuple[Stack, dict[str, int]]:
    ports = {k: free_port() for k in ("POSTGRES_PORT", "TEMPORAL_PORT", "TEMPORAL_UI_PORT", "API_PORT")}
    settings = Settings(
        JIESU_ENV="dev",
        JIESU_DATA_DIR=str(data_dir),
        database_url=None,  # never the developer's servers, whatever the environment says
        temporal_address=None,
        postgres_port=ports["POSTGRES_PORT"],
        temporal_port=ports["TEMPORAL_PORT"],
        temporal_ui_port=ports["TEMPORAL_UI_PORT"],
        api_port=ports["API_PORT"],
        metrics_port=None,
        temporal_metrics_port=None,
        api_temporal_metrics_port=None,
    )
    stack = Stack(settings)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
    env.update({k: str(v) for k, v in ports.items()})
    # metrics endpoints off: their fixed ports would meet another stack's
    env.update(
        JIESU_DATA_DIR=str(data_dir),
        JIESU_ENV="dev",
        PYTHONUNBUFFERED="1",
        METRICS_PORT="",
        TEMPORAL_METRICS_PORT="",
        API_TEMPORAL_METRICS_PORT="",
    )
    stack.env = env
    return stack, ports


class Api:
    def __init__(self, url: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=30)
        self.tokens: dict[str, str] = {}

    async def token(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            r = await self.http.post("/auth/token", json={"username": user, "password": DEMO_PASSWORD})
            r.raise_for_status()
            self.tokens[user] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def intake(self, body: dict) -> str:
        headers = await self.token("operator") | {"Idempotency-Key": f"shot-{time.time_ns()}"}
        r = await self.http.post("/appeals", json=body, headers=headers)
        r.raise_for_status()
        return r.json()["appeal"]["appeal_no"]

    async def act(self, user: str, no: str, action: str, body: dict | None = None) -> dict:
        r = await self.http.post(f"/appeals/{no}/{action}", json=body or {}, headers=await self.token(user))
        if r.status_code >= 400:
            raise RuntimeError(f"{action} on {no}: {r.status_code} {r.text}")
        return r.json()


async def record_appeals(api: Api, database_url: str) -> dict[str, str]:
    """The appeals the screenshots show; returns the interesting ones' numbers."""
    citizen = {"name": "刘先生", "phone": "13812345678"}
    lights = await api.intake(
        {
            "appeal_type": "complaint",
            "category": "MUNI.STREETLIGHT",
            "location": {"street": "110101-ANDINGMEN"},
            "content": "胡同路灯昏暗",
            "citizen": citizen,
        }
    )
    await api.act("lighting", lights, "accept")
    await api.act("lighting", lights, "co-handling", {"units": ["BJ-POWER"], "task": "检查胡同供电线路"})
    engine = make_engine(Settings(database_url=database_url))
    try:
        async with engine.begin() as conn:
            saved = (
                await conn.execute(
                    sa.text(
                        "SELECT contact_limit, contact_limit_unit FROM time_limit_policy "
                        "WHERE urgency = 'emergency' AND appeal_type = 'help'"
                    )
                )
            ).one()
            await conn.execute(sa.text(SHORT_CONTACT))
        water = await api.intake(
            {
                "appeal_type": "help",
                "category": "UTIL.WATER.OUTAGE",
                "urgency": "emergency",
                "location": {"street": "110105-CHAOWAI"},
                "content": "整栋楼停水，老人在家",
                "citizen": citizen,
            }
        )
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "UPDATE time_limit_policy SET contact_limit = :n, contact_limit_unit = :u "
                    "WHERE urgency = 'emergency' AND appeal_type = 'help'"
                ),
                {"n": saved[0], "u": saved[1]},
            )
    finally:
        await engine.dispose()
    garbage = await api.intake(
        {
            "appeal_type": "complaint",
            "category": "CITY.GARBAGE",
            "location": {"street": "110105-YAYUNCUN"},
            "content": "小区门口垃圾堆放多日",
            "citizen": citizen,
        }
    )
    await api.act(
        "yayuncun", garbage, "objection", {"reason": "开发商用地，不属街道管辖", "suggested_unit": "110105-CGW"}
    )
    daylight = await api.intake(
        {
            "appeal_type": "complaint",
            "category": "MUNI.STREETLIGHT",
            "location": {"street": "110105-YAYUNCUN"},
            "content": "路灯白天常亮",
            "citizen": citizen,
        }
    )
    await api.act("lighting", daylight, "accept")
    await api.act("lighting", daylight, "contact", {"note": "已电话联系"})
    for body in (
        {
            "appeal_type": "complaint",
            "category": "ENV.NOISE",
            "location": {"street": "110105-CHAOWAI"},
            "content": "夜间广场舞噪声",
        },
        {
            "appeal_type": "complaint",
            "category": "ENV.WORKSNOISE",
            "location": {"street": "110108-YONGDINGLU"},
            "content": "工地夜间施工",
        },
        {
            "appeal_type": "suggestion",
            "category": "MUNI.STREETLIGHT",
            "location": {"street": "110101-ANDINGMEN"},
            "content": "建议更换节能灯",
        },
    ):
        await api.intake(body | {"citizen": citizen})
    return {"lights": lights, "water": water, "objection": garbage}


async def wait_overdue(api: Api, no: str, timeout: float = 150) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = await api.http.get(f"/appeals/{no}", headers=await api.token("operator"))
        if r.json().get("overdue"):
            return
        await asyncio.sleep(3)
    raise TimeoutError(f"{no} did not become overdue in {timeout:.0f}s")


async def take(stack: Stack, ports: dict[str, int], hold: bool) -> None:
    await stack.start()
    api = Api(f"http://127.0.0.1:{ports['API_PORT']}")
    numbers = await record_appeals(api, stack.env["DATABASE_URL"])
    await wait_overdue(api, numbers["water"])
    ui = f"http://127.0.0.1:{ports['TEMPORAL_UI_PORT']}"
    if hold:
        print(f"appeals {numbers}; the Temporal UI is at {ui} (Ctrl-C stops the stack)", flush=True)
        await stack.wait()
    IMG.mkdir(parents=True, exist_ok=True)
    await shoot(ui, numbers)
    print(f"written: {IMG / 'temporal-ui-list.png'}, {IMG / 'temporal-ui-appeal.png'}", flush=True)


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


async def shoot(ui: str, numbers: dict[str, str]) -> None:
    from playwright.async_api import async_playwright  # for this script only

    columns = json.dumps({"default": [{"label": c} for c in LIST_COLUMNS]})
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM)
        try:
            # Beijing time in the UI's own "local" time zone
            context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
            # the column set, as the UI's "Configure Columns" stores it
            await context.add_init_script(
                f"localStorage.setItem('namespace-workflow-table-columns', {json.dumps(columns)})"
            )
            page = await context.new_page()
            await shoot_list(page, ui, numbers)
            await shoot_appeal(page, ui, numbers["water"])
        finally:
            await browser.close()


async def current_details_shown(page, timeout: float = 60) -> None:
    """Until the current details (the worker's answer to the UI's metadata query) are shown."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for frame in page.frames:
            if await frame.get_by_text("剩余时间按此计").count():  # their last line
                return
        await page.wait_for_timeout(500)
    raise TimeoutError("the current details were not shown")


async def shoot_list(page, ui: str, numbers: dict[str, str]) -> None:
    await page.set_viewport_size({"width": 1700, "height": 480})
    await page.goto(f"{ui}/namespaces/default/workflows")
    await page.get_by_text(f"appeal-{numbers['water']}", exact=True).wait_for()
    await page.get_by_test_id("table-maximize-button").click()
    await page.mouse.move(0, 0)
    await page.wait_for_timeout(800)
    await page.screenshot(path=IMG / "temporal-ui-list.png")


async def shoot_appeal(page, ui: str, no: str) -> None:
    """The appeal's page twice, stacked in one picture: its summary, details and current details
    (tab User Metadata), then its timeline with the timers' summaries (tab Timeline)."""
    await page.set_viewport_size({"width": 1500, "height": 1000})
    await page.goto(f"{ui}/namespaces/default/workflows/appeal-{no}")
    heading = page.get_by_test_id("workflow-id-heading")
    await heading.wait_for()
    await page.get_by_test_id("user-metadata-tab").click()
    # summary, details and current details are markdown, each rendered in a frame of its own
    await current_details_shown(page)
    frames = page.locator("iframe")
    boxes = [await frames.nth(i).bounding_box() for i in range(await frames.count())]
    top = await page.get_by_test_id("execution-status").bounding_box()  # left of the heading
    assert top is not None
    bottom = max(box["y"] + box["height"] for box in boxes if box is not None)
    left = top["x"] - 16
    width = 1500 - left - 16
    metadata = await page.screenshot(
        clip={"x": left, "y": top["y"] - 16, "width": width, "height": bottom + 24 - top["y"]}
    )
    await page.set_viewport_size({"width": 1500, "height": 1600})  # the whole timeline in view
    await page.get_by_test_id("timeline-tab").click()
    title = page.get_by_role("heading", name="Timeline")
    timer = page.get_by_text("联系时限到期").first  # a timer's summary
    await timer.wait_for()
    # down to the time axis's labels (the chart's frame goes on below them)
    axis = await timer.evaluate(
        "e => Math.max(...[...e.closest('.canvas').querySelectorAll('.tick-label')]"
        ".map(t => t.getBoundingClientRect().bottom))"
    )
    head = await title.bounding_box()
    assert head is not None
    timeline = await page.screenshot(
        clip={"x": left, "y": head["y"] - 12, "width": width, "height": axis + 16 - head["y"]}
    )
    # the two, one above the other, in a page of their own
    images = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" style="display:block">'
        for png in (metadata, timeline)
    )
    await page.set_viewport_size({"width": int(width), "height": 100})
    await page.set_content(f'<body style="margin:0;background:#f8fafc">{images}</body>')
    await page.screenshot(path=IMG / "temporal-ui-appeal.png", full_page=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hold", action="store_true", help="keep the stack running, instead of taking the pictures")
    hold = parser.parse_args().hold
    data_dir = Path(tempfile.mkdtemp(prefix="jiesu-shots-"))
    stack, ports = private_stack(data_dir)
    loop = asyncio.new_event_loop()
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the stack as Ctrl-C does
    try:
        loop.run_until_complete(take(stack, ports, hold))
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        stack.stop()
        loop.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
