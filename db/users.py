"""Staff accounts: password hashing (argon2) and the demo users of the dev stack."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

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
