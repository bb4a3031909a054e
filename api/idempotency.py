"""The Idempotency-Key header: on intake (the key is stored with the appeal) and on every action
(the key becomes the workflow Update's ID, so Temporal runs the action once and answers a retry
with the first answer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from domain.messages import Actor

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:\-]+$",
        description="send the same key again when retrying the same request: it is done once",
    ),
]


def update_id(action: str, actor: Actor, key: str | None) -> str | None:
    """The Update ID for an action sent with a key (None without one: Temporal picks a fresh ID).

    Temporal deduplicates Update IDs per workflow run, so another appeal (or part, or task) can
    never collide; the action and the caller are part of the ID, so one key reused for another
    action, or by another user, is not mistaken for a retry."""
    if key is None:
        return None
    return f"{action}:{actor.user}:{key}"
