"""kill -9 in the middle of a broadcast, restart: nothing lost, duplicates only from in-flight."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import open_storage
from db.engine import SessionFactory
from db.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Group,
    GroupLevel,
)
from sandbox import Limits, SandboxConfig
from sandbox.faults import Fault, Latency
from sandbox.testing import running_server
from sandbox.world import Member
from tests.scheduler.fakes import custom_broadcast

pytestmark = pytest.mark.long

ROOT = Path(__file__).resolve().parents[2]
GROUPS = 150
TEXT = "<b>TPS sudah buka</b> — uji pemulihan"


async def _start_bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as handle:  # the child keeps its own copy of the descriptor
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdout=handle, stderr=handle
        )


@pytest.mark.both_databases
async def test_kill_9_mid_broadcast_then_resume(tmp_path: Path, database: str) -> None:
    url = database
    now = datetime.now(UTC)
    # Telegram's limits on: 150 groups take about five seconds, plenty of time to crash.
    async with running_server(SandboxConfig(limits=Limits())) as server:
        world = server.world
        chats = []
        for i in range(GROUPS):
            leader = world.add_user(f"Ketua {i}")
            chat = world.add_group(f"RW {i}", "supergroup", admins=[leader])
            chat.bot_member = Member(world.bot, "member")
            chats.append(chat)
        engine, sessions = await open_storage(url, frozenset({1}), now)
        async with sessions.begin() as session:
            for chat in chats:
                session.add(
                    Group(
                        chat_id=chat.id,
                        title=chat.title or "",
                        level=GroupLevel.RW,
                        kelurahan_code="35.73.05.1005",
                        rw=1,
                        subscribed=True,
                        subscribed_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                )
            broadcast = custom_broadcast(now, TEXT, valid_for=timedelta(hours=1))
            session.add(broadcast)
        broadcast_id = broadcast.id

        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ADMIN"))},
            "TELEGRAM_BOT_TOKEN": server.token,
            "TELEGRAM_BASE_URL": server.api_url,
            "DATABASE_URL": url,
            "ADMIN_IDS": "1",
            "PYTHONPATH": str(ROOT),
        }
        log = tmp_path / "bot.log"

        def delivered() -> Counter[int]:
            return Counter(
                chat.id for chat in chats for m in world.bot_messages(chat) if m.buttons()
            )

        first = await _start_bot(env, log)
        try:
            await server.wait_until(lambda: sum(delivered().values()) >= 40, timeout=60)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        at_crash = sum(delivered().values())

        async with sessions() as session:
            states = dict(
                (
                    await session.execute(
                        select(Delivery.status, func.count())
                        .where(Delivery.broadcast_id == broadcast_id)
                        .group_by(Delivery.status)
                    )
                ).all()
            )
            status = await session.scalar(
                select(Broadcast.status).where(Broadcast.id == broadcast_id)
            )
        assert status is BroadcastStatus.RUNNING, log.read_text()
        in_flight = states.get(DeliveryStatus.SENDING, 0)
        assert at_crash < GROUPS, "the crash came too late to prove anything"

        second = await _start_bot(env, log)
        try:

            async def finished() -> bool:
                async with sessions() as session:
                    return (
                        await session.scalar(
                            select(Broadcast.status).where(Broadcast.id == broadcast_id)
                        )
                    ) is BroadcastStatus.DONE

            for _ in range(600):
                if await finished():
                    break
                await asyncio.sleep(0.1)
            assert await finished(), log.read_text()[-3000:]
        finally:
            second.send_signal(signal.SIGTERM)
            await second.wait()

        counts = delivered()
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(Delivery.status, Delivery.telegram_message_id).where(
                        Delivery.broadcast_id == broadcast_id
                    )
                )
            ).all()
        await engine.dispose()

    lost = [c.id for c in chats if counts[c.id] == 0]
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    assert lost == []
    assert len(rows) == GROUPS
    assert all(s is DeliveryStatus.SENT and mid for s, mid in rows)
    # Only sends whose outcome was not yet in the ledger at the crash may repeat.
    print(f"crash after {at_crash} sends; in flight {in_flight}; duplicated {duplicated}")
    assert duplicated <= in_flight, (duplicated, in_flight, states)


# -- two copies on one database, a standby, a graceful stop ------------------------------------


async def _seed(
    server: Any, url: str, count: int, now: datetime
) -> tuple[list[Any], AsyncEngine, SessionFactory, int]:
    world = server.world
    chats = []
    for i in range(count):
        leader = world.add_user(f"Ketua {i}")
        chat = world.add_group(f"RW {i}", "supergroup", admins=[leader])
        chat.bot_member = Member(world.bot, "member")
        chats.append(chat)
    engine, sessions = await open_storage(url, frozenset({1}), now)
    async with sessions.begin() as session:
        for chat in chats:
            session.add(
                Group(
                    chat_id=chat.id,
                    title=chat.title or "",
                    level=GroupLevel.RW,
                    kelurahan_code="35.73.05.1005",
                    rw=1,
                    subscribed=True,
                    subscribed_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
        broadcast = custom_broadcast(now, TEXT, valid_for=timedelta(hours=1))
        session.add(broadcast)
    return chats, engine, sessions, broadcast.id


def _env(server: Any, url: str, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ADMIN"))},
        "TELEGRAM_BOT_TOKEN": server.token,
        "TELEGRAM_BASE_URL": server.api_url,
        "DATABASE_URL": url,
        "ADMIN_IDS": "1",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


async def _status(sessions: SessionFactory, broadcast_id: int) -> dict[Any, int]:
    async with sessions() as session:
        states: dict[Any, int] = dict(
            (
                await session.execute(  # type: ignore[arg-type]
                    select(Delivery.status, func.count())
                    .where(Delivery.broadcast_id == broadcast_id)
                    .group_by(Delivery.status)
                )
            ).all()
        )
        states["broadcast"] = await session.scalar(
            select(Broadcast.status).where(Broadcast.id == broadcast_id)
        )
    return states


def _tail(log: Path, size: int = 3000) -> str:
    return log.read_text(errors="replace")[-size:]


async def _wait_done(sessions: SessionFactory, broadcast_id: int, log: Path, bound: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while (await _status(sessions, broadcast_id))["broadcast"] is not BroadcastStatus.DONE:
        assert loop.time() < deadline, _tail(log)
        await asyncio.sleep(0.2)


async def _wait_for_text(log: Path, text: str, bound: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while text not in _tail(log, 10**9):
        assert loop.time() < deadline, _tail(log)
        await asyncio.sleep(0.1)


async def test_second_copy_waits_as_standby_and_takes_over_after_kill_9(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'two.db'}"
    now = datetime.now(UTC)
    async with running_server(SandboxConfig(limits=Limits())) as server:
        chats, engine, sessions, broadcast_id = await _seed(server, url, GROUPS, now)
        env = _env(server, url)
        first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"

        def delivered() -> Counter[int]:
            return Counter(
                chat.id for chat in chats for m in server.world.bot_messages(chat) if m.buttons()
            )

        first = await _start_bot(env, first_log)
        second: asyncio.subprocess.Process | None = None
        try:
            await server.wait_until(lambda: sum(delivered().values()) >= 10, timeout=60)
            # Slow answers from here to the kill (24 workers, 6 s each: 4 sends a second).
            # On a loaded machine the second copy's start-up, or the moments between seeing
            # 40 sends and the kill, could otherwise outlast the whole broadcast, and the kill
            # would prove nothing.
            slow = server.faults.add(
                Fault("latency", method="sendMessage", latency=Latency.fixed(6000))
            )
            second = await _start_bot(env, second_log)
            await _wait_for_text(second_log, "this one waits as standby", bound=60)
            await server.wait_until(lambda: sum(delivered().values()) >= 40, timeout=60)
            # While both run, the standby sends nothing: every group so far has one copy.
            assert max(delivered().values()) == 1
            first.send_signal(signal.SIGKILL)
            await first.wait()
            server.faults.rules.remove(slow)
            states = await _status(sessions, broadcast_id)
            in_flight = states.get(DeliveryStatus.SENDING, 0)
            at_crash = sum(delivered().values())
            assert at_crash < GROUPS, "the crash came too late to prove anything"
            await _wait_for_text(second_log, "is active", bound=30)
            await _wait_done(sessions, broadcast_id, second_log, bound=60)
        finally:
            for process in (first, second):
                if process is not None and process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    await process.wait()
            # Also when an assertion above failed: an undisposed engine warns in a later test.
            await engine.dispose()
        counts = delivered()
    standby_lines = second_log.read_text().count("this one waits as standby")
    assert standby_lines == 1, second_log.read_text()[-2000:]
    assert [c.id for c in chats if counts[c.id] == 0] == []  # nothing lost
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    print(f"takeover after {at_crash} sends; in flight {in_flight}; duplicated {duplicated}")
    assert duplicated <= in_flight


async def test_sigterm_mid_paid_broadcast_exits_at_once_and_resumes_without_duplicates(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stop.db'}"
    now = datetime.now(UTC)
    groups = 1500
    async with running_server(SandboxConfig(limits=Limits())) as server:
        chats, engine, sessions, broadcast_id = await _seed(server, url, groups, now)
        env = _env(server, url, PAID_BROADCAST="true", BROADCAST_RATE="1000")
        log = tmp_path / "bot.log"

        def delivered() -> Counter[int]:
            return Counter(
                chat.id for chat in chats for m in server.world.bot_messages(chat) if m.buttons()
            )

        # Each send takes 50 ms: the broadcast lasts long enough for the stop to land inside
        # it however loaded the machine is (workers send side by side, so it is still quick).
        server.faults.add(Fault("latency", method="sendMessage", latency=Latency.fixed(50)))
        first = await _start_bot(env, log)
        try:
            await server.wait_until(lambda: sum(delivered().values()) >= 100, timeout=60)
            first.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(first.wait(), timeout=30)
        finally:
            if first.returncode is None:
                first.send_signal(signal.SIGKILL)
                await first.wait()
        assert code == 0, log.read_text()[-3000:]
        states = await _status(sessions, broadcast_id)
        at_stop = sum(delivered().values())
        assert at_stop < groups, "the stop came too late to prove anything"
        # Everything sent is written; everything claimed but not sent was given back.
        assert states.get(DeliveryStatus.SENDING, 0) == 0, states
        assert states.get(DeliveryStatus.SENT, 0) == at_stop, (states, at_stop)
        assert states["broadcast"] is BroadcastStatus.RUNNING

        second = await _start_bot(env, log)
        try:
            # No lease to wait for: the stopped instance released it.
            await _wait_done(sessions, broadcast_id, log, bound=60)
        finally:
            second.send_signal(signal.SIGTERM)
            await second.wait()
        counts = delivered()
        await engine.dispose()
    assert sorted(counts.values()) == [1] * groups  # every group exactly once
