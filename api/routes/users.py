"""Staff accounts, for administrators: list, create, re-bind to a unit or district, disable and
enable, set a new password. Password hashes never leave the database; a disabled account's
token stops working at its next request (every request looks the account up).

An administrator cannot disable their own account or change their own role: there is always one
administrator left who can undo a mistake."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError

from api.auth import Principal, require
from api.deps import DirectoryDep, SessionDep, WriteSessionDep
from api.error_codes import responses
from api.errors import ApiError, not_found
from db import users as store
from db.models import User
from db.reference import Directory
from domain.types import Role

log = logging.getLogger("jiesu.api")

router = APIRouter(tags=["users"])

#: what the codes mean here
FORBIDDEN = "the caller is not an administrator"
INVALID = (
    "a field is malformed or refused, named in `details`: an unknown or closed unit, an unknown district, a binding "
    "the role does not take (unit staff without their unit, a unit for another role, a district for anyone but a "
    "supervisor), a password under 12 characters"
)
UNKNOWN = "no account has this username"
READ = responses("forbidden", "validation_error", forbidden=FORBIDDEN, validation_error=INVALID)
ONE = responses(
    "forbidden", "validation_error", "not_found", forbidden=FORBIDDEN, validation_error=INVALID, not_found=UNKNOWN
)

AdminDep = Annotated[Principal, require(Role.ADMINISTRATOR)]
USERNAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
Username = Annotated[str, Path(max_length=64, pattern=USERNAME)]
Password = Annotated[
    str,
    Field(
        min_length=store.MIN_PASSWORD,
        max_length=200,
        description=f"at least {store.MIN_PASSWORD} characters; stored as an argon2 hash, never shown again",
    ),
]


class UserOut(BaseModel):
    username: str
    display_name: str
    role: Role
    unit: str | None = Field(description="unit staff: the unit they act for")
    district: str | None = Field(description="a supervisor: the district they watch (none: the city)")
    active: bool = Field(description="false: disabled, cannot log in, and its tokens stop working")
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            unit=user.unit_code,
            district=user.district_code,
            active=user.active,
            created_at=user.created_at,
        )


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


def _text(value: str | None) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else value


class UserIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "lighting-zhang",
                    "display_name": "张工（城市照明管理中心）",
                    "role": "unit_staff",
                    "unit": "BJ-LIGHTING",
                    "password": "a-first-password-1",
                },
                {
                    "username": "chaoyang-sup2",
                    "display_name": "朝阳区督办中心 王科长",
                    "role": "supervisor",
                    "district": "110105",
                    "password": "a-first-password-2",
                },
            ]
        }
    )

    username: str = Field(pattern=USERNAME, description="letters, digits, '.', '_' or '-'; 1–64 characters")
    display_name: str | None = Field(
        default=None, max_length=100, description="shown in the console; the username if none"
    )
    role: Role
    unit: str | None = Field(default=None, max_length=40, description="required for unit_staff, refused for the others")
    district: str | None = Field(default=None, max_length=12, description="a supervisor's district (none: the city)")
    password: Password

    _clean = field_validator("display_name", "unit", "district")(_text)


class UserChange(BaseModel):
    """What to change; a field left out stays, `null` unbinds (unit, district)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"unit": "BJ-WATER"},
                {"role": "supervisor", "unit": None, "district": "110105"},
                {"display_name": "张工（城市照明管理中心）"},
            ]
        }
    )

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    role: Role | None = None
    unit: str | None = Field(default=None, max_length=40)
    district: str | None = Field(default=None, max_length=12)

    _clean = field_validator("unit", "district")(_text)


class PasswordIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"password": "a-second-password-1"}]})

    password: Password


def _field(status: int, code: str, field: str, message: str) -> ApiError:
    return ApiError(status, code, message, [{"field": field, "message": message}])


def _check_binding(role: Role, unit: str | None, district: str | None, directory: Directory) -> None:
    """422 naming the field: an unknown or closed unit, an unknown district, a binding the role
    does not take (unit staff without a unit, a unit for anyone else, a district for anyone but a
    supervisor)."""
    if unit is not None:
        facts = directory.units.get(unit)
        if facts is None:
            raise _field(422, "validation_error", "unit", f"unknown unit {unit!r}")
        if not facts.active:
            raise _field(422, "validation_error", "unit", f"unit {unit!r} is no longer active")
    if district is not None and district not in directory.districts:
        raise _field(422, "validation_error", "district", f"unknown district {district!r}")
    refusal = store.binding_refusal(role, unit, district)
    if refusal is not None:
        raise _field(422, "validation_error", *refusal)


async def _user(session: Any, username: str) -> User:
    user = await store.get_user(session=session, username=username)
    if user is None:
        raise not_found("user", username)
    return user


async def _hash(password: str) -> str:
    # argon2 takes ~0.1 s of CPU: off the event loop
    return await asyncio.to_thread(store.hash_password, password)


@router.get("/users", response_model=UserPage, responses=READ)
async def list_users(
    session: SessionDep,
    _: AdminDep,
    role: Role | None = None,
    active: bool | None = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    district: Annotated[str | None, Query(max_length=12)] = None,
    q: Annotated[str | None, Query(max_length=64, description="part of a username or display name")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
):
    """Staff accounts by username, disabled ones included unless `active` says otherwise."""
    rows, total = await store.list_users(
        session=session,
        role=role,
        active=active,
        unit_code=unit,
        district_code=district,
        q=q,
        limit=limit,
        offset=offset,
    )
    return UserPage(items=[UserOut.of(u) for u in rows], total=total, limit=limit, offset=offset)


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    responses=READ | responses("conflict", conflict="the username is taken"),
)
async def create_user(body: UserIn, session: WriteSessionDep, directory: DirectoryDep, principal: AdminDep):
    """A new staff account with its first password (the person changes it with the
    administrator's help: there is no self-service yet). 409 if the username is taken."""
    _check_binding(body.role, body.unit, body.district, await directory.get())
    taken = _field(409, "conflict", "username", f"the username {body.username!r} is taken")
    if await store.get_user(session=session, username=body.username) is not None:
        raise taken
    user = User(
        username=body.username,
        display_name=body.display_name or body.username,
        password_hash=await _hash(body.password),
        role=body.role,
        unit_code=body.unit,
        district_code=body.district,
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError as e:  # taken meanwhile
        raise taken from e
    await session.refresh(user)
    log.info("account %s (%s) created by %s", user.username, user.role.value, principal.username)
    return UserOut.of(user)


@router.get("/users/{username}", response_model=UserOut, responses=ONE)
async def get_user(username: Username, session: SessionDep, _: AdminDep):
    return UserOut.of(await _user(session, username))


@router.patch(
    "/users/{username}",
    response_model=UserOut,
    responses=ONE | responses("conflict", conflict="an administrator changing their own role"),
)
async def change_user(
    username: Username, body: UserChange, session: WriteSessionDep, directory: DirectoryDep, principal: AdminDep
):
    """Rename, change the role, bind to another unit or district. The account's binding after the
    change must suit its role (e.g. to make unit staff a supervisor, send `"unit": null` too)."""
    user = await _user(session, username)
    sent = body.model_fields_set
    role = body.role if "role" in sent and body.role is not None else user.role
    if role is not user.role and user.username == principal.username:
        raise _field(409, "conflict", "role", "you cannot change your own role")
    unit = body.unit if "unit" in sent else user.unit_code
    district = body.district if "district" in sent else user.district_code
    _check_binding(role, unit, district, await directory.get())
    if "display_name" in sent and body.display_name is not None:
        user.display_name = body.display_name.strip() or user.display_name
    user.role, user.unit_code, user.district_code = role, unit, district
    session.add(user)
    await session.commit()
    await session.refresh(user)
    log.info("account %s changed by %s", user.username, principal.username)
    return UserOut.of(user)


async def _set_active(username: str, active: bool, session: Any, principal: Principal) -> UserOut:
    user = await _user(session, username)
    if not active and user.username == principal.username:
        raise _field(409, "conflict", "username", "you cannot disable your own account")
    user.active = active
    if not active:
        user.tokens_since = datetime.now(UTC)  # enabling it again does not revive its old tokens
    session.add(user)
    await session.commit()
    await session.refresh(user)
    log.info("account %s %s by %s", user.username, "enabled" if active else "disabled", principal.username)
    return UserOut.of(user)


@router.post(
    "/users/{username}/disable",
    response_model=UserOut,
    responses=ONE | responses("conflict", conflict="an administrator disabling their own account"),
)
async def disable_user(username: Username, session: WriteSessionDep, principal: AdminDep):
    """The account can no longer log in, and its tokens stop working at once (its sessions in
    the console end; enabling it again does not revive them). Not one's own."""
    return await _set_active(username, False, session, principal)


@router.post("/users/{username}/enable", response_model=UserOut, responses=ONE)
async def enable_user(username: Username, session: WriteSessionDep, principal: AdminDep):
    return await _set_active(username, True, session, principal)


@router.post("/users/{username}/password", response_model=UserOut, responses=ONE)
async def set_password(username: Username, body: PasswordIn, session: WriteSessionDep, principal: AdminDep):
    """A new password (e.g. the person forgot theirs, or it leaked): every token issued before
    stops working at once (the person's console sessions end; they log in with the new one)."""
    user = await _user(session, username)
    user.password_hash = await _hash(body.password)
    user.tokens_since = datetime.now(UTC)
    session.add(user)
    await session.commit()
    await session.refresh(user)
    log.info("password of %s set by %s", user.username, principal.username)
    return UserOut.of(user)
