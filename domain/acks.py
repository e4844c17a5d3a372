"""Read acknowledgements: one per user and delivery, written in batches (group commit).

A press names a broadcast (the button's data), a chat and a message (Telegram's update); only
a delivery of that broadcast, sent to that chat as that message, can be acknowledged. Presses
arriving together are written in one transaction, so a burst of hundreds a second costs a
handful of SQLite commits instead of one each.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.models import Acknowledgement, Delivery, DeliveryStatus
from db.retry import retrying
from scheduler.clock import Clock

log = logging.getLogger(__name__)


class AckOutcome(StrEnum):
    RECORDED = "recorded"
    ALREADY = "already"  # this user had acknowledged this delivery before
    NOT_A_DELIVERY = "not_a_delivery"  # forged data, wrong chat, or another message


@dataclass(frozen=True)
class Press:
    """One press of "✅ Sudah dibaca", as plain data."""

    broadcast_id: int
    chat_id: int
    message_id: int
    user_id: int
    user_name: str = ""  # accepted from callers, never stored (only id and admin flag are)
    is_admin: bool = False


@dataclass(frozen=True)
class AckResult:
    outcome: AckOutcome
    delivery_id: int | None = None


DeliveryKey = tuple[int, int, int]  # (broadcast_id, chat_id, telegram_message_id)


def _key(press: Press) -> DeliveryKey:
    return (press.broadcast_id, press.chat_id, press.message_id)


async def find_deliveries(
    session: AsyncSession, keys: Sequence[DeliveryKey]
) -> dict[DeliveryKey, int]:
    """Delivery ids of sent messages, by (broadcast, chat, message); unknown keys are absent."""
    if not keys:
        return {}
    chats = {k[1] for k in keys}
    messages = {k[2] for k in keys}
    rows = await session.execute(
        select(
            Delivery.id, Delivery.broadcast_id, Delivery.chat_id, Delivery.telegram_message_id
        ).where(
            Delivery.chat_id.in_(chats),
            Delivery.telegram_message_id.in_(messages),
            Delivery.status == DeliveryStatus.SENT,
        )
    )
    wanted = set(keys)
    found: dict[DeliveryKey, int] = {}
    for delivery_id, broadcast_id, chat_id, message_id in rows:
        key = (broadcast_id, chat_id, message_id)
        if key in wanted:
            found[key] = delivery_id
    return found


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Acknowledgement)


async def record_presses(
    session: AsyncSession,
    presses: Sequence[Press],
    now: datetime,
    known: dict[DeliveryKey, int] | None = None,
) -> list[AckResult]:
    """Record a batch of presses in one statement; one result per press, in order.

    `known` maps delivery keys already looked up (a cache) to delivery ids; the rest are
    looked up with one query and added to it.
    """
    known = known if known is not None else {}
    missing = list({_key(p) for p in presses if _key(p) not in known})
    known.update(await find_deliveries(session, missing))
    rows: list[dict[str, Any]] = []
    first: dict[tuple[int, int], int] = {}  # (delivery, user) -> index of its first press
    for index, press in enumerate(presses):
        delivery_id = known.get(_key(press))
        if delivery_id is None or (delivery_id, press.user_id) in first:
            continue
        first[(delivery_id, press.user_id)] = index
        rows.append(
            {
                "delivery_id": delivery_id,
                "user_id": press.user_id,
                "is_admin": press.is_admin,
                "created_at": now,
            }
        )
    inserted: set[tuple[int, int]] = set()
    if rows:
        statement = (
            _insert(session)
            .on_conflict_do_nothing(index_elements=["delivery_id", "user_id"])
            .returning(Acknowledgement.delivery_id, Acknowledgement.user_id)
        )
        inserted = {(d, u) for d, u in (await session.execute(statement, rows)).all()}
    results: list[AckResult] = []
    for index, press in enumerate(presses):
        delivery_id = known.get(_key(press))
        if delivery_id is None:
            results.append(AckResult(AckOutcome.NOT_A_DELIVERY))
        elif first.get((delivery_id, press.user_id)) == index and (
            (delivery_id, press.user_id) in inserted
        ):
            results.append(AckResult(AckOutcome.RECORDED, delivery_id))
        else:
            results.append(AckResult(AckOutcome.ALREADY, delivery_id))
    return results


async def mark_admins(session: AsyncSession, pairs: Sequence[tuple[int, int]]) -> None:
    """Flag acknowledgements (delivery, user) as the group admin's (the RT/RW leader's)."""
    if not pairs:
        return
    await session.execute(
        update(Acknowledgement)
        .where(tuple_(Acknowledgement.delivery_id, Acknowledgement.user_id).in_(list(pairs)))
        .values(is_admin=True)
    )


async def ack_counts(session: AsyncSession, delivery_ids: Sequence[int]) -> dict[int, int]:
    """How many people acknowledged each delivery (absent: none)."""
    if not delivery_ids:
        return {}
    rows = await session.execute(
        select(Acknowledgement.delivery_id, func.count())
        .where(Acknowledgement.delivery_id.in_(delivery_ids))
        .group_by(Acknowledgement.delivery_id)
    )
    return {d: n for d, n in rows.all()}


class AckWriter:
    """Group commit for presses: whoever arrives while a batch is written waits for the next.

    There is no timer: under light load a press is written at once in its own transaction;
    under a burst the batches grow by themselves. Admin flags learned later ride along.
    """

    def __init__(self, sessions: SessionFactory, clock: Clock, *, max_batch: int = 500) -> None:
        self.sessions = sessions
        self.clock = clock
        self.max_batch = max(1, max_batch)
        self._presses: list[tuple[Press, asyncio.Future[AckResult]]] = []
        self._admins: list[tuple[int, int]] = []
        self._drainer: asyncio.Task[None] | None = None
        # Deliveries never change their message once sent: a cache spares the look-up.
        self._deliveries: dict[DeliveryKey, int] = {}
        self.batches = 0  # for benchmarks and tests: how many transactions were written

    async def record(self, press: Press) -> AckResult:
        future: asyncio.Future[AckResult] = asyncio.get_running_loop().create_future()
        self._presses.append((press, future))
        self._wake()
        return await future

    def mark_admin(self, delivery_id: int, user_id: int) -> None:
        """Flag an acknowledgement as the admin's; written with the next batch."""
        self._admins.append((delivery_id, user_id))
        self._wake()

    async def drain(self) -> None:
        """Wait until everything submitted so far is written."""
        while self._drainer is not None and not self._drainer.done():
            await asyncio.shield(self._drainer)

    def _wake(self) -> None:
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._presses or self._admins:
            batch = self._presses[: self.max_batch]
            del self._presses[: len(batch)]
            admins, self._admins = self._admins, []
            try:
                # A lock held past the busy timeout delays the batch; it is not lost.
                results = await retrying(
                    functools.partial(self._write, [p for p, _ in batch], admins),
                    "writing acknowledgements",
                )
            except Exception as exc:
                log.exception("writing %d acknowledgement(s) failed", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _write(self, presses: list[Press], admins: list[tuple[int, int]]) -> list[AckResult]:
        if len(self._deliveries) > 200_000:
            self._deliveries.clear()
        async with self.sessions.begin() as session:
            results = await record_presses(session, presses, self.clock.now(), self._deliveries)
            await mark_admins(session, admins)
        self.batches += 1
        return results
