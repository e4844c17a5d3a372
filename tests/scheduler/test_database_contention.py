"""Another process holds SQLite's write lock longer than the busy timeout: delayed, not lost."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import SessionFactory
from db.models import BroadcastStatus, Delivery, DeliveryStatus
from domain.acks import AckOutcome, AckWriter, Press
from domain.groups import GROUP_DIRECTORY
from scheduler.clock import FixedClock
from scheduler.engine import BroadcastEngine
from scheduler.engine_config import EngineConfig
from tests.scheduler.fakes import RecordingSender, add_groups, custom_broadcast


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    # Runs after the project's own pragmas: waits of 50 ms instead of 10 s before "locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=50")
    cursor.close()


async def _until(condition: Any, bound: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while not await condition():
        assert loop.time() < deadline, "condition not met"
        await asyncio.sleep(0.02)


@pytest.mark.sqlite_only
async def test_a_lock_held_past_the_busy_timeout_loses_no_send_and_no_press(
    storage: tuple[AsyncEngine, SessionFactory],
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, sessions = storage
    await engine.dispose()  # new connections get the short timeout below
    event.listen(engine.sync_engine, "connect", _short_busy_timeout)
    await add_groups(sessions, 200)
    async with sessions.begin() as session:
        broadcast = custom_broadcast(clock.now())
        session.add(broadcast)
    broadcasts = BroadcastEngine(
        sessions,
        RecordingSender(delay=0.02),
        clock,
        render=lambda b: b.text or "",
        groups=GROUP_DIRECTORY,
        config=EngineConfig(rate=5000, workers=2, claim_batch=8, result_interval=0.05),
    )
    running = asyncio.create_task(broadcasts.run(broadcast.id))

    async def sent() -> int:
        async with sessions() as session:
            return int(
                await session.scalar(
                    select(func.count()).where(
                        Delivery.broadcast_id == broadcast.id,
                        Delivery.status == DeliveryStatus.SENT,
                    )
                )
                or 0
            )

    await _until(lambda: _gt(sent(), 10))
    async with sessions() as session:
        delivery = (
            await session.scalars(
                select(Delivery).where(Delivery.status == DeliveryStatus.SENT).limit(1)
            )
        ).one()

    # Another process takes the write lock and keeps it.
    path = str(engine.url.database)
    held, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(60)
        conn.execute("COMMIT")
        conn.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        await asyncio.get_running_loop().run_in_executor(None, held.wait, 10)
        writer = AckWriter(sessions, clock)
        assert delivery.chat_id is not None and delivery.telegram_message_id is not None
        press = asyncio.create_task(
            writer.record(
                Press(broadcast.id, delivery.chat_id, delivery.telegram_message_id, 4242, "Warga")
            )
        )
        with caplog.at_level(logging.WARNING, logger="db.retry"):

            async def both_waiting() -> bool:
                text = caplog.text
                return "claiming deliveries" in text and "writing acknowledgements" in text

            await _until(both_waiting)
            assert not running.done() and not press.done()
    finally:
        release.set()
        await asyncio.get_running_loop().run_in_executor(None, holder.join, 10)

    summary = await asyncio.wait_for(running, 60)
    assert summary.status is BroadcastStatus.DONE
    assert summary.sent == 200 and summary.failed == 0
    assert (await asyncio.wait_for(press, 30)).outcome is AckOutcome.RECORDED


async def _gt(value: Any, bound: int) -> bool:
    return int(await value) > bound
