"""Channels that file and follow appeals through Open311 (the city's app, WeChat, partner
platforms, other hotlines): `python -m db.channels create NAME [--trusted] [--kind app] | list |
revoke NAME`. A key is printed once, at creation; only its SHA-256 is kept."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from db.models import Open311Channel
from db.session import session_factory, session_scope
from domain.types import Channel

NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{1,39}$")
#: the intake channels an Open311 channel may record its appeals as (never the phone or a transfer)
KINDS = (Channel.APP, Channel.WECHAT, Channel.WEB, Channel.WEIBO)


class ChannelError(ValueError):
    pass


@dataclass(frozen=True)
class KnownChannel:
    name: str
    kind: Channel
    trusted: bool


def key_hash(key: str) -> str:
    """A key is 32 random bytes: its SHA-256 cannot be reversed or guessed (no slow hash needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


async def create_channel(engine: AsyncEngine, name: str, *, trusted: bool = False, kind: str = "app") -> str:
    """Register a channel; returns its key (shown once, never stored)."""
    if not NAME.match(name):
        raise ChannelError("a channel name is 2-40 lowercase letters, digits, '-' or '_'")
    if kind not in {k.value for k in KINDS}:
        raise ChannelError(f"kind is one of {', '.join(k.value for k in KINDS)}")
    key = secrets.token_urlsafe(32)
    async with session_scope(engine) as session:
        if await session.get(Open311Channel, name) is not None:
            raise ChannelError(f"channel {name!r} exists already (revoke it and create another name)")
        session.add(Open311Channel(name=name, key_hash=key_hash(key), kind=kind, trusted=trusted))
    return key


async def revoke_channel(engine: AsyncEngine, name: str) -> bool:
    """Its key stops working at once; its appeals stay. False if there is no such live channel."""
    async with session_scope(engine) as session:
        row = await session.get(Open311Channel, name)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = datetime.now(UTC)
        session.add(row)
    return True


async def list_channels(engine: AsyncEngine) -> list[Open311Channel]:
    async with session_factory(engine)() as session:
        return list((await session.exec(select(Open311Channel).order_by(Open311Channel.name))).all())


async def channel_for_key(engine: AsyncEngine, key: str) -> KnownChannel | None:
    """The live channel holding this key, or None (unknown or revoked)."""
    async with session_factory(engine)() as session:
        row = (await session.exec(select(Open311Channel).where(Open311Channel.key_hash == key_hash(key)))).first()
    if row is None or row.revoked_at is not None:
        return None
    return KnownChannel(row.name, Channel(row.kind), row.trusted)


def main() -> int:
    """`python -m db.channels create NAME [--trusted] [--kind KIND] | list | revoke NAME`."""
    import argparse
    import asyncio
    import sys

    from db.session import make_engine

    parser = argparse.ArgumentParser(prog="python -m db.channels", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="register a channel and print its key (once)")
    create.add_argument("name")
    create.add_argument("--trusted", action="store_true", help="it may hold the citizen's token")
    create.add_argument("--kind", default="app", choices=[k.value for k in KINDS])
    sub.add_parser("list", help="every channel, live or revoked (never a key)")
    revoke = sub.add_parser("revoke", help="its key stops working at once")
    revoke.add_argument("name")
    args = parser.parse_args()

    async def run() -> int:
        engine = make_engine()
        try:
            if args.command == "create":
                key = await create_channel(engine, args.name, trusted=args.trusted, kind=args.kind)
                print(f"created {args.name}; its key (shown only now): {key}")
            elif args.command == "list":
                for c in await list_channels(engine):
                    state = f"revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "live"
                    print(f"{c.name}\t{c.kind}\t{'trusted' if c.trusted else '-'}\t{state}")
            elif not await revoke_channel(engine, args.name):
                print(f"no live channel {args.name!r}", file=sys.stderr)
                return 1
            else:
                print(f"revoked {args.name}")
            return 0
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except ChannelError as e:
        print(f"not done: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
