"""Who is calling: staff log in for a signed, expiring bearer token; a citizen presents the
per-appeal access token given at intake (no account needed)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import parse_qs

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.deps import LimitsDep, ReadsDep, SettingsDep
from api.error_codes import responses
from api.errors import ApiError
from api.limits import client_of
from db.models import User
from db.users import active_user, check_login
from domain.messages import Actor
from domain.types import Role
from infra import logging as logs

TOKEN_TTL_S = 8 * 3600  # one shift

router = APIRouter(tags=["auth"])
_bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/token")
#: the same bearer token, declared as OAuth2's password flow: Swagger UI's Authorize then asks
#: for a username and password and fetches the token itself
_password_flow = OAuth2PasswordBearer(
    tokenUrl="/auth/token", auto_error=False, description="Log in with a username and password"
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, message: str) -> str:
    return _b64(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest())


def issue_token(secret: str, user: User, *, now: float | None = None, ttl: int = TOKEN_TTL_S) -> str:
    now = time.time() if now is None else now
    # issued at, to the millisecond: a token from before the account's `tokens_since` is refused
    claims = {"sub": user.username, "role": user.role.value, "iat": round(now, 3), "exp": int(now + ttl)}
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{body}.{_sign(secret, body)}"


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of a secret sent by a client. Compared as bytes: a header may
    carry any byte (Starlette reads headers as Latin-1), and `hmac.compare_digest` refuses a
    str that is not ASCII."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def read_token(secret: str, token: str, *, now: float | None = None) -> dict:
    try:
        body, signature = token.split(".")
        if not same_secret(signature, _sign(secret, body)):
            raise ValueError("bad signature")
        claims = json.loads(_unb64(body))
        if not isinstance(claims, dict):
            raise ValueError("not a set of claims")
    except ValueError as e:  # UnicodeError is one
        raise ApiError(401, "unauthorized", "invalid token") from e
    if claims.get("exp", 0) < (now or time.time()):
        raise ApiError(401, "unauthorized", "token expired: log in again")
    return claims


def citizen_token(secret: str, appeal_no: str, version: int) -> str:
    """Unguessable without the secret; rotating means bumping the appeal's token version."""
    return _sign(secret, f"citizen:{appeal_no}:{version}")[:32]


@dataclass(frozen=True)
class Principal:
    username: str
    role: Role
    unit: str | None
    district: str | None
    display_name: str = ""

    @property
    def actor(self) -> Actor:
        return Actor(user=self.username, role=self.role, unit=self.unit)


async def _bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _: Annotated[str | None, Depends(_password_flow)],
) -> HTTPAuthorizationCredentials | None:
    """The `Authorization: Bearer` token. Both schemes read that one header: the second is
    there for the OpenAPI document (a route may be called with either)."""
    return credentials


async def current_principal(
    reads: ReadsDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_token)],
) -> Principal:
    if credentials is None:
        raise ApiError(401, "unauthorized", "a bearer token is required (POST /auth/token)")
    claims = read_token(settings.secret_key, credentials.credentials)
    # its own short session: a route that then waits on a workflow holds no connection for it
    async with reads() as session:
        # every request asks this: a plain statement, without loading an ORM object
        user = (await (await session.connection()).execute(_WHO, {"username": claims["sub"]})).first()
    if user is None or not user.active:
        raise ApiError(401, "unauthorized", "the account is unknown or disabled")
    if user.tokens_since is not None and _issued_at(claims) < user.tokens_since.timestamp():
        raise ApiError(
            401, "unauthorized",
            "this token was issued before the account's sessions were ended (a new password, or the account "
            "disabled): log in again",
        )
    logs.bind(unit=user.unit_code)  # every log line of the request names the caller's unit
    return Principal(user.username, user.role, user.unit_code, user.district_code, user.display_name)


def _issued_at(claims: dict) -> float:
    """When the token was issued (0 for a token from before tokens said so)."""
    iat = claims.get("iat", 0)
    return float(iat) if isinstance(iat, (int, float)) and not isinstance(iat, bool) else 0.0


_users = User.__table__
_WHO = sa.select(
    _users.c.username, _users.c.display_name, _users.c.role, _users.c.unit_code, _users.c.district_code, _users.c.active,
    _users.c.tokens_since,
).where(
    _users.c.username == sa.bindparam("username")
)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role):
    """A dependency admitting only these roles (403 for the others)."""

    async def _check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            names = ", ".join(r.value for r in roles)
            raise ApiError(403, "forbidden", f"this needs the role {names}")
        return principal

    return Depends(_check)


#: The caller, admitted only in this role (403 for the others).
OperatorDep = Annotated[Principal, require(Role.OPERATOR)]
SupervisorDep = Annotated[Principal, require(Role.SUPERVISOR)]
UnitStaffDep = Annotated[Principal, require(Role.UNIT_STAFF)]


async def optional_principal(
    reads: ReadsDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_token)],
) -> Principal | None:
    if credentials is None:
        return None
    return await current_principal(reads, settings, credentials)


CitizenToken = Annotated[
    str | None,
    Header(alias="X-Citizen-Token", max_length=64, description="the appeal's access token, for citizens"),
]


class Login(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"username": "lighting", "password": "jiesu-demo-2026"}]})

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class PasswordForm(Login):
    """The form OAuth2's password flow posts (RFC 6749 4.3.2), as Swagger UI's Authorize does."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"grant_type": "password", "username": "operator", "password": "jiesu-demo-2026"}]}
    )

    grant_type: Literal["password"] = "password"


FORM = "application/x-www-form-urlencoded"


class PasswordFormRoute(APIRoute):
    """A route whose JSON body may also come as OAuth2's password form: the form is checked,
    then handed on as the JSON body, so the route and its checks are the same for both."""

    def get_route_handler(self):
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type == FORM:
                request = _as_json(request, await _password_form(request))
            return await handle(request)

        return route


async def _password_form(request: Request) -> bytes:
    """The form's username and password as a JSON body; a bad form is a 422 like bad JSON."""
    try:
        fields = parse_qs((await request.body()).decode(), keep_blank_values=True, errors="strict", max_num_fields=20)
    except (UnicodeDecodeError, ValueError) as e:  # bytes that are no UTF-8 once unquoted; too many fields
        raise _invalid("body", f"not a form of a username and password: {e}") from None
    named = {name: values for name, values in fields.items() if name in PasswordForm.model_fields}
    for name, values in named.items():
        if len(values) > 1:
            raise _invalid(name, "given more than once")
        if "\x00" in values[0]:  # the JSON body's NUL is refused before parsing; here it is unquoted
            raise _invalid(name, "text may not contain a NUL character")
    try:
        form = PasswordForm.model_validate({name: values[0] for name, values in named.items()})
    except ValidationError as e:
        raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in e.errors()]) from None
    return json.dumps(form.model_dump(include={"username", "password"})).encode()


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


def _as_json(request: Request, body: bytes) -> Request:
    headers = [(k, v) for k, v in request.scope["headers"] if k not in (b"content-type", b"content-length")]
    scope = {**request.scope, "headers": [*headers, (b"content-type", b"application/json"),
                                          (b"content-length", str(len(body)).encode())]}

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: Role
    unit: str | None


async def login(body: Login, request: Request, reads: ReadsDep, settings: SettingsDep, limits: LimitsDep):
    """Exchange a username and password for a bearer token (LOGIN_RATE_PER_MINUTE tries per
    client and username, LOGIN_CLIENT_RATE_PER_MINUTE per client whatever the usernames; then
    429 with Retry-After). JSON, or the form of OAuth2's password flow (`grant_type=password`,
    `username`, `password`: what Swagger UI's Authorize sends)."""
    client = client_of(request)
    limits.login_client.hit(client)  # one password sprayed over many usernames
    limits.login.hit(f"{client}:{body.username}")
    async with reads() as session:  # the hashing takes a while: the connection goes back first
        known = await active_user(session=session, username=body.username)
    # argon2 takes ~0.1 s of CPU: off the event loop, so other requests go on meanwhile
    if not await asyncio.to_thread(check_login, known.password_hash if known else None, body.password):
        raise ApiError(401, "unauthorized", "wrong username or password")
    user = known
    return TokenOut(
        access_token=issue_token(settings.secret_key, user),
        expires_in=TOKEN_TTL_S,
        role=user.role,
        unit=user.unit_code,
    )


router.add_api_route(
    "/auth/token",
    login,
    methods=["POST"],
    response_model=TokenOut,
    responses=responses(
        "unauthorized",
        "too_many_requests",
        unauthorized="wrong username or password, or the account is disabled",
        too_many_requests="too many tries for this username from this client, or from this client at all",
    ),
    route_class_override=PasswordFormRoute,
    openapi_extra={"requestBody": {"content": {FORM: {"schema": PasswordForm.model_json_schema()}}}},
)


class MeOut(BaseModel):
    username: str
    display_name: str
    role: Role
    unit: str | None = Field(description="unit staff: their unit")
    district: str | None = Field(description="a district supervisor: the district")


@router.get("/auth/me", response_model=MeOut, responses=responses("unauthorized"))
async def me(principal: CurrentPrincipal):
    """Who the token stands for: the account's name, role and what it is bound to."""
    return MeOut(username=principal.username, display_name=principal.display_name, role=principal.role,
                 unit=principal.unit, district=principal.district)
