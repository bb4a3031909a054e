"""An independent Open311 client from the package index (`georeport`, a GeoReport v2 wrapper
built on `requests`) follows an appeal against jiesu served over real HTTP by uvicorn. The
client has no POST: the appeal is filed with plain HTTP (httpx), as a channel would."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import httpx
import pytest
import pytest_asyncio
import uvicorn
from georeport import GeoReport

from api.main import create_app
from db.channels import create_channel
from devstack.ports import free_port
from tests.api import open311_spec as spec
from tests.api.test_appeals_e2e import act, wait_for

pytestmark = pytest.mark.usefixtures("appeal_worker")


@pytest_asyncio.fixture(scope="module")
async def live(settings, dev_env):
    """jiesu on a real port, in a thread with its own event loop, engine and Temporal client
    (to the session's dev server)."""
    port = free_port()
    own = settings.model_copy(update={"temporal_address": dev_env.client.service_client.config.target_host})
    server = uvicorn.Server(uvicorn.Config(create_app(own), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}/open311/v2"
    server.should_exit = True
    await asyncio.to_thread(thread.join, 10)


async def test_the_georeport_client_files_and_follows(live, api, engine, tokens):
    key = await create_channel(engine, f"georeport-{uuid.uuid4().hex[:6]}")
    async with httpx.AsyncClient() as plain:
        r = await plain.post(f"{live}/requests.json", data={
            "api_key": key, "jurisdiction_id": "beijing", "service_code": "MUNI.STREETLIGHT",
            "lat": "39.9462", "long": "116.4057", "attribute[appeal_type]": "complaint",
            "description": f"路灯不亮 {uuid.uuid4().hex[:8]}",
        })
    assert r.status_code == 201, r.text
    no = r.json()[0]["service_request_id"]
    await wait_for(api, tokens["op"], no, lambda b: b["status"] == "dispatched")

    for fmt in ("json", "xml"):
        client = GeoReport(live, jurisdiction="beijing", output_format=fmt)
        services = await asyncio.to_thread(client.get_service_list)
        codes = {s["service_code"] for s in services}
        assert "MUNI.STREETLIGHT" in codes
        definition = await asyncio.to_thread(client.get_service_definition, "MUNI.STREETLIGHT")
        assert definition["service_code"] == "MUNI.STREETLIGHT"
        one = await asyncio.to_thread(client.get_service_request, no)
        one = one[0] if isinstance(one, list) else one
        assert one["service_request_id"] == no and one["status"] == "open"
        listed = await asyncio.to_thread(client.get_service_requests, service_request_id=no, status="open,closed")
        listed = [listed] if isinstance(listed, dict) else listed
        assert [x["service_request_id"] for x in listed] == [no]
        if fmt == "json":
            spec.check_json(spec.REQUEST, [one])

    await act(api, tokens["lighting"], no, "accept")
    await act(api, tokens["lighting"], no, "contact", {"note": "已电话联系"})
    await act(api, tokens["lighting"], no, "complete", {"result": "已修复路灯线路"})
    client = GeoReport(live, output_format="xml")
    one = await asyncio.to_thread(client.get_service_request, no)
    assert one["status"] == "closed" and one["status_notes"] == "已修复路灯线路"
    assert one["agency_responsible"] == "北京市城市照明管理中心"
