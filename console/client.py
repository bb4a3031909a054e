"""The console's way into the system: the HTTP API itself, called in-process.

A page never reads the database or sends a workflow message on its own: it calls the API's
routes (on the same app, through ASGI, with the signed-in user's bearer token), so the console
and the API share every rule by construction — who may see which appeal, which actions a role
may take, what input is valid, what is audited. An API error comes back as `ApiProblem`, with
the reason per field for the form to show next to each field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Request

from api.limits import client_of

#: the host name the in-process calls carry (never resolved: the transport is the app itself)
INTERNAL = "http://console.internal"


@dataclass
class ApiProblem(Exception):
    """An API error answer: its status, code, message and the reason for each field at fault."""

    status: int
    code: str
    message: str
    fields: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    @classmethod
    def of(cls, response: httpx.Response) -> ApiProblem:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            return cls(response.status_code, "error", response.text[:200] or response.reason_phrase)
        fields: dict[str, str] = {}
        details = error.get("details")
        for detail in details if isinstance(details, list) else []:
            if isinstance(detail, dict) and detail.get("field"):
                fields.setdefault(str(detail["field"]), str(detail.get("message") or error.get("message", "")))
        return cls(response.status_code, str(error.get("code", "error")), str(error.get("message", "")), fields)


class Api:
    """The API as one signed-in user (or, with `citizen_token`, the citizen) calls it."""

    def __init__(self, request: Request, token: str | None = None, *, citizen_token: str | None = None) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if citizen_token:
            headers["X-Citizen-Token"] = citizen_token
        if request_id := request.headers.get("x-request-id"):
            headers["X-Request-ID"] = request_id
        # the caller's address, so the API's rate limits count the person, not the console
        transport = httpx.ASGITransport(app=request.app, client=(client_of(request), 0))
        self._http = httpx.AsyncClient(transport=transport, base_url=INTERNAL, headers=headers, timeout=30)

    async def call(self, method: str, path: str, *, json: Any = None, params: Any = None,
                   form: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
        """The answer's JSON; raises `ApiProblem` for a 4xx or 5xx answer."""
        response = await self._http.request(method, path, json=json, params=params, data=form, headers=headers)
        if response.status_code >= 400:
            raise ApiProblem.of(response)
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    async def get(self, path: str, **params: Any) -> Any:
        return await self.call("GET", path, params={k: v for k, v in params.items() if v not in (None, "")})

    async def download(self, path: str, **params: Any) -> httpx.Response:
        """The answer itself, body and headers (a CSV file to hand on to the browser, which has
        no bearer token to fetch it); raises `ApiProblem` for a 4xx or 5xx answer."""
        response = await self._http.get(path, params={k: v for k, v in params.items() if v not in (None, "")})
        if response.status_code >= 400:
            raise ApiProblem.of(response)
        return response

    async def post(self, path: str, body: Any = None, *, idempotency_key: str | None = None) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return await self.call("POST", path, json=body if body is not None else {}, headers=headers)

    async def aclose(self) -> None:
        await self._http.aclose()
