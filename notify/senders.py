"""Senders carry one outbox notification to its recipient: a log line in dev, a signed webhook
POST elsewhere.

A sender returns when the recipient has the notification and raises otherwise:
`PermanentFailure` when repeating the same request cannot help (the relay gives up on the row),
anything else when it might (the relay retries later with backoff).

The webhook contract, for the receiving side:

- `POST <url>` with the JSON of `Outgoing` as the body;
- `Idempotency-Key: <idem_key>` — delivery is at least once, so the same notification can
  arrive more than once; dedupe on this key;
- `X-Jiesu-Topic: <topic>`;
- `X-Jiesu-Signature: sha256=<hex>` — HMAC-SHA256 of the exact body bytes with the shared
  secret; verify it before trusting the body;
- answer 2xx when accepted. 4xx (except 408 and 429) means "never send this again"; anything
  else, a timeout or a refused connection is retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime
from typing import Any, Protocol

import httpx
from pydantic import BaseModel

from settings import Settings

log = logging.getLogger("jiesu.notify")

#: 4xx answers that mean "later", not "never".
RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


class Outgoing(BaseModel):
    """One notification as it leaves jiesu: an outbox row without its delivery bookkeeping."""

    idem_key: str
    appeal_no: str | None
    recipient: str
    topic: str
    payload: dict[str, Any]
    created_at: datetime


class DeliveryFailure(Exception):
    """The recipient did not take the notification."""


class TemporaryFailure(DeliveryFailure):
    """Worth trying again later: the receiver is down, overloaded or slow."""


class PermanentFailure(DeliveryFailure):
    """Trying again cannot help: the receiver rejected this notification."""


class Sender(Protocol):
    async def send(self, notification: Outgoing) -> None:
        """Deliver or raise (`PermanentFailure` to stop retrying this notification)."""
        ...


class LogSender:
    """Writes one log line per notification; nothing leaves the process. The default in dev."""

    async def send(self, notification: Outgoing) -> None:
        log.info(
            "notify %s topic=%s recipient=%s appeal=%s payload=%s",
            notification.idem_key,
            notification.topic,
            notification.recipient,
            notification.appeal_no,
            json.dumps(notification.payload, ensure_ascii=False, sort_keys=True, default=str),
        )

    async def aclose(self) -> None:
        pass

    async def __aenter__(self) -> LogSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass


def signature(body: bytes, secret: str) -> str:
    """The `X-Jiesu-Signature` value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """POSTs each notification, signed, to one URL. Keeps one connection pool for its lifetime;
    close it with `aclose()` (or use it as an async context manager)."""

    def __init__(self, url: str, secret: str, timeout: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("the notification webhook URL must be http:// or https://")
        if not secret:
            raise ValueError("the notification webhook needs a secret to sign with")
        self.url = url
        self._secret = secret
        self._client = httpx.AsyncClient(timeout=timeout)

    async def send(self, notification: Outgoing) -> None:
        body = notification.model_dump_json().encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": notification.idem_key,
            "X-Jiesu-Topic": notification.topic,
            "X-Jiesu-Signature": signature(body, self._secret),
        }
        try:
            response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.TransportError as e:  # timeouts, refused or dropped connections
            raise TemporaryFailure(f"{type(e).__name__}: {e}".rstrip(": ")) from e
        if response.is_success:
            return
        reason = f"HTTP {response.status_code}: {response.text[:200]}".rstrip(": ")
        if response.is_client_error and response.status_code not in RETRYABLE_CLIENT_ERRORS:
            raise PermanentFailure(reason)
        raise TemporaryFailure(reason)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> WebhookSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def sender_from_settings(settings: Settings) -> LogSender | WebhookSender:
    """A webhook sender when `notify_webhook_url` is set (then `notify_webhook_secret` is
    required), else the log sender."""
    url = getattr(settings, "notify_webhook_url", None)
    if not url:
        return LogSender()
    secret = getattr(settings, "notify_webhook_secret", None)
    if hasattr(secret, "get_secret_value"):  # a SecretStr setting
        secret = secret.get_secret_value()
    if not secret:
        raise ValueError("NOTIFY_WEBHOOK_SECRET must be set when NOTIFY_WEBHOOK_URL is")
    return WebhookSender(url, secret)
