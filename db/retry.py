"""Retrying a transaction that failed only because another writer was in the way.

SQLite answers "database is locked" once its busy timeout is over (another process held the
write lock longer); PostgreSQL aborts one side of a serialization conflict or a deadlock. Both
are worth another try: the transaction was rolled back whole, nothing half-written remains.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

T = TypeVar("T")

_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")
_PG_RETRY = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def is_transient(exc: BaseException) -> bool:
    """Whether a database error is contention (retry) rather than a bug or a lost server."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in _PG_RETRY:
        return True
    text = str(orig).lower()
    return any(s in text for s in _SQLITE_BUSY) or "could not serialize access" in text


async def retrying(
    action: Callable[[], Awaitable[T]],
    what: str,
    *,
    base: float = 0.05,
    max_delay: float = 2.0,
    give_up_after: float = 300.0,
) -> T:
    """Run `action` (one whole transaction) until it gets through contention.

    Bounded by time, not tries: a lock held for a minute delays the work but loses nothing.
    Logs once per contention episode, not once per try.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    delay = base
    warned = False
    while True:
        try:
            return await action()
        except DBAPIError as exc:
            if not is_transient(exc) or loop.time() - started > give_up_after:
                raise
            if not warned:
                log.warning("%s: database busy (%s); retrying", what, str(exc.orig)[:80])
                warned = True
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(max_delay, delay * 2)
