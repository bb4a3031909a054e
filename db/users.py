"""Staff accounts: password hashing (argon2) and the demo users of the dev stack."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import User
from db.session import session_scope
from domain.types import Role

_hasher = PasswordHasher()

DEMO_PASSWORD = "jiesu-demo-2026"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except VerificationError:
        return False


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def check_login(password_hash: str | None, password: str) -> bool:
    """Is this the account's password? An unknown or disabled account (None) is checked against
    a dummy hash of the same parameters, so both answers take as long and the time of a refusal
    does not tell which usernames exist."""
    ok = verify_password(password_hash or _dummy_hash(), password)
    return ok and password_hash is not None


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: Role
    unit_code: str | None = None
    district_code: str | None = None


#: One account per role, bound to the units of the seed stories.
DEMO_USERS = (
    DemoUser("operator", "Operator Wang (12345 hotline)", Role.OPERATOR),
    DemoUser("lighting", "Chen Chunguang (city lighting centre)", Role.UNIT_STAFF, "BJ-LIGHTING"),
    DemoUser("yayuncun", "Yayuncun street office", Role.UNIT_STAFF, "110105-YAYUNCUN"),
    DemoUser("supervisor", "Municipal supervision centre", Role.SUPERVISOR),
    DemoUser("chaoyang-supervisor", "Chaoyang district supervision", Role.SUPERVISOR, None, "110105"),
    DemoUser("analyst", "Data analyst", Role.ANALYST),
    DemoUser("admin", "Administrator", Role.ADMINISTRATOR),
)


async def ensure_users(engine: AsyncEngine, users: tuple[DemoUser, ...], password: str) -> list[str]:
    """Create the accounts that do not exist yet; never touch existing ones. Returns created."""
    created = []
    async with session_scope(engine) as session:
        existing = set((await session.exec(select(User.username))).all())
        for u in users:
            if u.username in existing:
                continue
            session.add(
                User(
                    username=u.username,
                    display_name=u.display_name,
                    password_hash=hash_password(password),
                    role=u.role,
                    unit_code=u.unit_code,
                    district_code=u.district_code,
                )
            )
            created.append(u.username)
    return created


async def active_user(*, session: AsyncSession, username: str) -> User | None:
    """The account that may log in under this name: None if unknown or disabled."""
    user = (await session.exec(select(User).where(User.username == username))).first()
    return user if user is not None and user.active else None


#: Every password a person sets is at least this long.
MIN_PASSWORD = 12


def binding_refusal(role: Role, unit_code: str | None, district_code: str | None) -> tuple[str, str] | None:
    """What is wrong with binding an account of this role (field, reason), or None: unit staff
    act for one unit (and see its appeals wherever they are); a supervisor watches a district or,
    unbound, the city; the other roles serve the whole city and are bound to nothing."""
    if role is Role.UNIT_STAFF:
        if not unit_code:
            return "unit", "unit staff need their unit"
        if district_code:
            return (
                "district",
                "unit staff are bound to a unit, not a district (their unit's appeals are wherever they are)",
            )
        return None
    if unit_code:
        return "unit", f"only unit staff are bound to a unit, not a {role.value}"
    if district_code and role is not Role.SUPERVISOR:
        return "district", f"only a supervisor is bound to a district, not a {role.value}"
    return None


async def list_users(
    *,
    session: AsyncSession,
    role: Role | None = None,
    active: bool | None = None,
    unit_code: str | None = None,
    district_code: str | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[User], int]:
    """Accounts by username; `q` is part of a username or display name."""
    stmt = select(User)
    if role is not None:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active == active)
    if unit_code is not None:
        stmt = stmt.where(User.unit_code == unit_code)
    if district_code is not None:
        stmt = stmt.where(User.district_code == district_code)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(col(User.username).ilike(pattern), col(User.display_name).ilike(pattern)))
    total = (await session.exec(select(func.count()).select_from(stmt.subquery()))).one()
    rows = await session.exec(stmt.order_by(col(User.username)).offset(offset).limit(limit))
    return list(rows.all()), total


async def get_user(*, session: AsyncSession, username: str) -> User | None:
    """The account of this name, active or not."""
    return (await session.exec(select(User).where(User.username == username))).first()


async def create_user(
    engine: AsyncEngine,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str | None = None,
    unit_code: str | None = None,
    district_code: str | None = None,
) -> User:
    """Create one account (unit staff need their unit; a supervisor may be bound to a district)."""
    if role is Role.UNIT_STAFF and not unit_code:
        raise ValueError("unit staff need --unit")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
    async with session_scope(engine) as session:
        if (await session.exec(select(User).where(User.username == username))).first() is not None:
            raise ValueError(f"user {username!r} exists already")
        user = User(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            role=role,
            unit_code=unit_code,
            district_code=district_code,
        )
        session.add(user)
    return user


def main() -> int:
    """`python -m db.users create NAME --role ROLE [--unit CODE] [--district CODE]`; the
    password is read from the terminal (or stdin), never from the command line."""
    import argparse
    import asyncio
    import getpass
    import sys

    from db.session import make_engine

    parser = argparse.ArgumentParser(prog="python -m db.users", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a staff account")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--unit", help="the unit of unit staff, e.g. BJ-LIGHTING")
    create.add_argument("--district", help="the district of a district supervisor, e.g. 110105")
    create.add_argument("--name", help="display name")
    args = parser.parse_args()
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")

    async def run() -> None:
        engine = make_engine()
        try:
            await create_user(
                engine,
                username=args.username,
                password=password,
                role=Role(args.role),
                display_name=args.name,
                unit_code=args.unit,
                district_code=args.district,
            )
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except Exception as e:  # a bad unit or district code fails on its foreign key
        print(f"not created: {e}", file=sys.stderr)
        return 1
    print(f"created {args.username} ({args.role})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
