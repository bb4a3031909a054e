"""The benchmark's HTTP client: JSON over HTTP/1.1 keep-alive connections, and nothing else.

The benchmark drives the API from the same two cores the stack runs on, so the driver's own CPU
is taken from the system it measures. httpx spent about 2 ms of CPU per request here (10 ms per
appeal, more than PostgreSQL); this client spends a few hundredths of a millisecond. It speaks
only what uvicorn answers the API with: a status line, headers, a Content-Length body.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class JsonClient:
    def __init__(self, base_url: str) -> None:
        host_port = base_url.split("://", 1)[1].rstrip("/")
        self.host, _, port = host_port.partition(":")
        self.port = int(port or 80)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def __aenter__(self) -> JsonClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        while self._idle:
            self._idle.pop()[1].close()

    async def post(self, path: str, body: dict, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """POST a JSON body; returns the status and the decoded JSON answer."""
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
            + "\r\n"
        ).encode() + data
        if self._idle:
            try:
                return await self._exchange(self._idle.pop(), head)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass  # the server closed an idle connection before reading: send on a new one
        return await self._exchange(await asyncio.open_connection(self.host, self.port), head)

    async def _exchange(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes) -> tuple[int, Any]:
        reader, writer = conn
        writer.write(request)
        status_line = await reader.readline()
        if not status_line:
            writer.close()
            raise ConnectionResetError("the server closed the connection")
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        payload = await reader.readexactly(length)
        if close:
            writer.close()
        else:
            self._idle.append(conn)
        return int(status_line.split()[1]), json.loads(payload) if payload else None
