"""The outbox relay on a real PostgreSQL, delivering to a real HTTP receiver on a local port:
what a unit's system receives, when it is retried, when jiesu gives up, and that two relays never
send a notification twice."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import socket
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import pytest_asyncio
import sqlalchemy as sa
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.migrate import run_alembic
from db.session import make_engine
from devstack.ports import free_port
from notify.relay import MAX_ATTEMPTS, DeliveryReport, deliver_pending, run_relay
from notify.senders import LogSender, WebhookSender, sender_from_settings
from settings import Settings
from tests.conftest import settings_for

SECRET = "test-webhook-secret"
PAYLOAD = {"appeal_no": "BJ-20250301-1", "deadline": "2025-03-08T18:00:00+08:00", "note": "路灯不亮"}


# --- fixtures -------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module")
async def outbox_engine(pg_server) -> AsyncIterator[AsyncEngine]:
    """A database of its own: a relay claims every due row of the table, so on the shared
    database it would deliver (or fail) the notifications other tests are looking at."""
    engine = make_engine(settings_for(await pg_server.create_database("jiesu_notify")))
    await run_alembic(engine, "upgrade", "head")
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(autouse=True)
async def empty_outbox(outbox_engine: AsyncEngine) -> AsyncIterator[None]:
    """Each test starts from an empty outbox, so a round's report counts only its own rows."""
    yield
    async with outbox_engine.begin() as conn:
        await conn.execute(sa.text("DELETE FROM notification_outbox"))


class Receiver:
    """A unit's webhook endpoint: records every request by idempotency key and answers with the
    statuses scripted for that key, then 200."""

    def __init__(self) -> None:
        self.requests: dict[str, list[tuple[dict[str, str], bytes]]] = defaultdict(list)
        self.script: dict[str, list[int]] = {}
        self.delay = 0.0
        self.url = ""

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        key = request.headers["idempotency-key"]
        self.requests[key].append((dict(request.headers), body))
        await asyncio.sleep(self.delay)
        statuses = self.script.get(key)
        return Response(status_code=statuses.pop(0) if statuses else 200)


@pytest_asyncio.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.hook, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    yield receiver
    server.should_exit = True
    await serving
    sock.close()


@pytest_asyncio.fixture
async def webhook(receiver: Receiver) -> AsyncIterator[WebhookSender]:
    receiver.delay = 0.0
    async with WebhookSender(receiver.url, SECRET, timeout=2.0) as sender:
        yield sender


# --- helpers --------------------------------------------------------------------------------


async def add(engine: AsyncEngine, n: int = 1, *, attempts: int = 0) -> list[str]:
    """Write `n` due notifications, as the projection activity would."""
    keys = [f"test:{uuid.uuid4().hex}" for _ in range(n)]
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO notification_outbox"
                " (idem_key, appeal_no, recipient, topic, payload, attempts, next_attempt_at)"
                " VALUES (:key, 'BJ-20250301-1', 'BJ-LIGHTING', 'appeal.dispatched',"
                " CAST(:payload AS jsonb), :attempts, now() - interval '1 second')"
            ),
            [{"key": k, "payload": json.dumps(PAYLOAD), "attempts": attempts} for k in keys],
        )
    return keys


async def rows(engine: AsyncEngine, keys: list[str]) -> dict[str, sa.RowMapping]:
    async with engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT * FROM notification_outbox WHERE idem_key = ANY(:keys)"), {"keys": keys}
        )
        return {r["idem_key"]: r for r in result.mappings()}


# --- delivery -------------------------------------------------------------------------------


async def test_log_sender_delivers_each_row_once(outbox_engine, caplog):
    caplog.set_level(logging.INFO, logger="jiesu.notify")
    keys = await add(outbox_engine, 3)

    assert await deliver_pending(outbox_engine, LogSender()) == DeliveryReport(delivered=3)
    assert all(r["delivered_at"] is not None for r in (await rows(outbox_engine, keys)).values())
    logged = [r.getMessage() for r in caplog.records if r.name == "jiesu.notify"]
    assert all(any(k in line and "路灯不亮" in line for line in logged) for k in keys)

    assert await deliver_pending(outbox_engine, LogSender()) == DeliveryReport()


async def test_webhook_receives_signed_json(outbox_engine, receiver, webhook):
    [key] = await add(outbox_engine)

    assert await deliver_pending(outbox_engine, webhook) == DeliveryReport(delivered=1)

    [(headers, body)] = receiver.requests[key]
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-jiesu-signature"] == f"sha256={expected}"
    assert headers["x-jiesu-topic"] == "appeal.dispatched"
    assert headers["content-type"] == "application/json"
    sent = json.loads(body)
    assert sent["idem_key"] == key
    assert (sent["appeal_no"], sent["recipient"], sent["payload"]) == (
        "BJ-20250301-1", "BJ-LIGHTING", PAYLOAD
    )
    assert datetime.fromisoformat(sent["created_at"]).tzinfo is not None
    assert (await rows(outbox_engine, [key]))[key]["delivered_at"] is not None


async def test_unavailable_receiver_is_retried_after_backoff(outbox_engine, receiver, webhook):
    [key] = await add(outbox_engine)
    receiver.script[key] = [503]
    now = datetime.now(UTC)

    assert await deliver_pending(outbox_engine, webhook, now=now) == DeliveryReport(retried=1)
    row = (await rows(outbox_engine, [key]))[key]
    assert row["delivered_at"] is None
    assert row["attempts"] == 1
    assert "HTTP 503" in row["last_error"]
    assert row["next_attempt_at"] == now + timedelta(seconds=10)

    # Not due yet by the database's clock: nobody is called.
    assert await deliver_pending(outbox_engine, webhook) == DeliveryReport()
    assert len(receiver.requests[key]) == 1

    later = now + timedelta(seconds=11)
    assert await deliver_pending(outbox_engine, webhook, now=later) == DeliveryReport(delivered=1)
    assert len(receiver.requests[key]) == 2
    assert (await rows(outbox_engine, [key]))[key]["delivered_at"] == later


async def test_rejected_notification_fails_for_good(outbox_engine, receiver, webhook):
    [key] = await add(outbox_engine)
    receiver.script[key] = [400]

    assert await deliver_pending(outbox_engine, webhook) == DeliveryReport(failed=1)
    row = (await rows(outbox_engine, [key]))[key]
    assert (row["delivered_at"], row["attempts"]) == (None, MAX_ATTEMPTS)
    assert row["last_error"].startswith("permanent: HTTP 400")

    next_week = datetime.now(UTC) + timedelta(days=7)
    assert await deliver_pending(outbox_engine, webhook, now=next_week) == DeliveryReport()
    assert len(receiver.requests[key]) == 1


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(500, "retried"), (408, "retried"), (429, "retried"), (404, "failed"), (422, "failed")],
)
async def test_status_decides_retry_or_give_up(outbox_engine, receiver, webhook, status, outcome):
    [key] = await add(outbox_engine)
    receiver.script[key] = [status]
    assert await deliver_pending(outbox_engine, webhook) == DeliveryReport(**{outcome: 1})


async def test_unreachable_receiver_is_retried(outbox_engine):
    [key] = await add(outbox_engine)
    async with WebhookSender(f"http://127.0.0.1:{free_port()}/hook", SECRET, timeout=1.0) as sender:
        assert await deliver_pending(outbox_engine, sender) == DeliveryReport(retried=1)
    assert "ConnectError" in (await rows(outbox_engine, [key]))[key]["last_error"]


async def test_twelfth_failure_gives_up(outbox_engine, receiver, webhook):
    [key] = await add(outbox_engine, attempts=MAX_ATTEMPTS - 1)
    receiver.script[key] = [503]

    assert await deliver_pending(outbox_engine, webhook) == DeliveryReport(failed=1)
    assert (await rows(outbox_engine, [key]))[key]["attempts"] == MAX_ATTEMPTS
    next_week = datetime.now(UTC) + timedelta(days=7)
    assert await deliver_pending(outbox_engine, webhook, now=next_week) == DeliveryReport()


async def test_two_relays_deliver_each_notification_once(outbox_engine, receiver, webhook):
    keys = await add(outbox_engine, 24)
    receiver.delay = 0.01  # keep each batch's rows locked long enough for the relays to overlap

    async def drain() -> int:
        delivered = 0
        while (report := await deliver_pending(outbox_engine, webhook, batch=5)).claimed:
            delivered += report.delivered
        return delivered

    first, second = await asyncio.gather(drain(), drain())

    assert first + second == 24
    assert first > 0 and second > 0
    assert {k: len(receiver.requests[k]) for k in keys} == {k: 1 for k in keys}


# --- the relay loop -------------------------------------------------------------------------


async def test_run_relay_delivers_until_stopped(outbox_engine):
    keys = await add(outbox_engine, 2)
    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(outbox_engine, LogSender(), stop, interval=0.05))
    for _ in range(100):
        if all(r["delivered_at"] for r in (await rows(outbox_engine, keys)).values()):
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the relay did not deliver")
    stop.set()
    await asyncio.wait_for(relay, timeout=1)


async def test_run_relay_outlives_a_database_outage(caplog):
    caplog.set_level(logging.INFO, logger="jiesu.notify")
    nowhere = make_engine(settings_for(f"postgresql://postgres@127.0.0.1:{free_port()}/jiesu"))
    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(nowhere, LogSender(), stop, interval=0.05))
    try:
        await asyncio.sleep(0.3)
        assert not relay.done()
        failures = [r for r in caplog.records if "relay round failed" in r.getMessage()]
        assert len(failures) >= 2
    finally:
        stop.set()
        await asyncio.wait_for(relay, timeout=1)
        await nowhere.dispose()


# --- configuration --------------------------------------------------------------------------


async def test_sender_from_settings_picks_webhook_when_a_url_is_set():
    # The defaults (with or without the notify settings declared): notifications go to the log.
    assert isinstance(sender_from_settings(Settings.model_construct()), LogSender)

    configured = SimpleNamespace(
        notify_webhook_url="https://units.example/hook", notify_webhook_secret=SECRET
    )
    async with sender_from_settings(configured) as sender:  # type: ignore[arg-type]
        assert isinstance(sender, WebhookSender)
        assert sender.url == "https://units.example/hook"

    unsigned = SimpleNamespace(notify_webhook_url="https://units.example/hook", notify_webhook_secret=None)
    with pytest.raises(ValueError, match="NOTIFY_WEBHOOK_SECRET"):
        sender_from_settings(unsigned)  # type: ignore[arg-type]
