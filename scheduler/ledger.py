"""The delivery ledger: claims before sends, results after, written in batches.

Batching keeps SQLite well below one transaction per send, which is what lets paid broadcasts
run at hundreds of messages a second. Every claim is durable before its send starts, so after a
crash the only duplicates are sends whose results were not yet written.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, exists, select, update

from db.engine import SessionFactory
from db.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus
from scheduler.clock import Clock

log = logging.getLogger(__name__)

_DELIVERIES = cast(Table, Delivery.__table__)


async def claim(
    sessions: SessionFactory, broadcast_id: int, delivery_ids: Sequence[int], now: datetime
) -> bool:
    """Mark deliveries as being sent; False (and nothing claimed) if the broadcast was cancelled.

    Reading the status here lets a cancel from anywhere (another process, the shell) stop a
    running broadcast within one batch. One statement does both: a claim is one round trip.
    """
    async with sessions.begin() as session:
        if delivery_ids:
            result = await session.execute(
                update(_DELIVERIES)
                .where(
                    _DELIVERIES.c.id.in_(delivery_ids),
                    exists().where(
                        Broadcast.id == broadcast_id,
                        Broadcast.status != BroadcastStatus.CANCELLED,
                    ),
                )
                .values(status=DeliveryStatus.SENDING, claimed_at=now, updated_at=now)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                return True
        # Nothing claimed: cancelled, or (rarely) the rows are gone; only a cancel stops.
        status = await session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
        return status is not BroadcastStatus.CANCELLED


@functools.cache
def _update_by_id(shape: tuple[str, ...]) -> Update:
    """UPDATE deliveries SET <columns> WHERE id = :_id, for rows keyed like `shape`."""
    return (
        update(_DELIVERIES)
        .where(_DELIVERIES.c.id == bindparam("_id"))
        .values({key: bindparam(key) for key in shape if key != "_id"})
    )


class ResultWriter:
    """Collects delivery results and writes them together every `interval` seconds."""

    def __init__(self, sessions: SessionFactory, clock: Clock, interval: float = 0.05) -> None:
        self._sessions = sessions
        self._clock = clock
        self._interval = interval
        self._pending: dict[int, dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def record(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        attempts: int,
        chat_id: int | None = None,
        message_id: int | None = None,
        error: str | None = None,
    ) -> None:
        now = self._clock.now()
        row: dict[str, Any] = {
            "_id": delivery_id,
            "status": status,
            "attempts": attempts,
            "updated_at": now,
            "last_error": error[:255] if error else None,
        }
        if chat_id is not None:
            row["chat_id"] = chat_id
        if message_id is not None:
            row["telegram_message_id"] = message_id
            row["sent_at"] = now
        previous = self._pending.get(delivery_id, {})
        self._pending[delivery_id] = {**previous, **row}

    async def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = list(self._pending.values()), {}
        # One executemany per key set; Core, not the ORM's bulk UPDATE: a third less CPU a row.
        by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in batch:
            by_shape.setdefault(tuple(sorted(row)), []).append(row)
        try:
            async with self._sessions.begin() as session:
                for shape, rows in by_shape.items():
                    await session.execute(_update_by_id(shape), rows)
        except BaseException:
            # Keep what was not written; newer results for the same delivery win.
            for row in batch:
                self._pending[row["_id"]] = {**row, **self._pending.get(row["_id"], {})}
            raise

    async def _loop(self) -> None:
        while not self._closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), timeout=self._interval)
            try:
                await self.flush()
            except Exception:  # a failed write is retried with the next batch
                log.exception("writing delivery results failed; will retry")
                await asyncio.sleep(self._interval)

    async def close(self) -> None:
        self._closed.set()
        if self._task is not None:
            await self._task
        await self.flush()
