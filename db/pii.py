"""Personal data sealed at rest: a citizen's name, phone, ID number and address are stored
encrypted (AES-256-GCM, key derived from PII_KEY), opened only where a route shows them.

Rotation: set the new key as PII_KEY and the old one in PII_PREVIOUS_KEYS (comma-separated);
values sealed with an old key still open, and `python -m db.pii reseal` re-encrypts every
stored value with the current key, after which the old key can be dropped.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"
FIELDS = ("name", "phone", "id_number", "address")


def _key(secret: str) -> bytes:
    return hashlib.sha256(("jiesu personal data:" + secret).encode()).digest()


class Sealer:
    def __init__(self, key: str, previous: list[str] | None = None) -> None:
        self._current = AESGCM(_key(key))
        self._all = [self._current] + [AESGCM(_key(k)) for k in previous or []]

    @classmethod
    def from_settings(cls, settings) -> Sealer:
        previous = [k.strip() for k in (settings.pii_previous_keys or "").split(",") if k.strip()]
        return cls(settings.pii_key, previous)

    def seal(self, value: str | None) -> str | None:
        if value is None:
            return None
        nonce = os.urandom(12)
        return PREFIX + base64.urlsafe_b64encode(nonce + self._current.encrypt(nonce, value.encode(), None)).decode()

    def open(self, value: str | None) -> str | None:
        if value is None or not value.startswith(PREFIX):
            return value  # written before sealing existed
        raw = base64.urlsafe_b64decode(value[len(PREFIX):])
        for aead in self._all:
            try:
                return aead.decrypt(raw[:12], raw[12:], None).decode()
            except InvalidTag:
                continue
        raise ValueError("personal data sealed with an unknown key: set PII_PREVIOUS_KEYS")

    def reseal(self, value: str | None) -> str | None:
        return self.seal(self.open(value))


async def reseal_all(engine, sealer: Sealer, batch: int = 500) -> int:
    """Re-encrypt every stored contact with the current key. Returns the rows rewritten."""
    import sqlalchemy as sa

    done, last = 0, 0
    while True:
        async with engine.begin() as conn:
            rows = (
                await conn.execute(
                    sa.text(f"SELECT id, {', '.join(FIELDS)} FROM citizen_contact WHERE id > :last ORDER BY id LIMIT :n FOR UPDATE"),
                    {"last": last, "n": batch},
                )
            ).mappings().all()
            for row in rows:
                values = {f: sealer.reseal(row[f]) for f in FIELDS}
                await conn.execute(
                    sa.text("UPDATE citizen_contact SET " + ", ".join(f"{f} = :{f}" for f in FIELDS) + " WHERE id = :id"),
                    values | {"id": row["id"]},
                )
        if not rows:
            return done
        done += len(rows)
        last = rows[-1]["id"]


def main() -> None:
    from db.session import make_engine
    from settings import get_settings

    async def run() -> None:
        settings = get_settings()
        engine = make_engine(settings)
        try:
            print(f"resealed {await reseal_all(engine, Sealer.from_settings(settings))} contacts")
        finally:
            await engine.dispose()

    asyncio.run(run())


if __name__ == "__main__":
    main()
