"""What the analysts keep of an appeal from the moment it is received: its topics (analytics/
topics.py) and whether it came back after a resolution at the same place (analytics/recurring.py).

Written in the intake's own transaction, so an appeal is never without them: the API hands
`intake_writes(...)` to `db.appeals.record_intake`, which runs it after the appeal row is in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from analytics import recurring, topics

IntakeWrites = Callable[[AsyncConnection, Any], Awaitable[None]]


async def intake_writes(content: str) -> IntakeWrites:
    """The writes for an appeal with this text. Its topics are worked out here, before the
    transaction opens and off the event loop (jieba is CPU work)."""
    keys = await asyncio.to_thread(topics.topic_keys, content)

    async def write(conn: AsyncConnection, appeal: Any) -> None:
        await topics.insert_rows(conn, topics.topic_rows(appeal, keys))
        await recurring.fill_returns(conn, [appeal.appeal_no])  # came back after a resolution there?

    return write
