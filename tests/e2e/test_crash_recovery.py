"""kill -9 in the middle of a broadcast, restart: nothing lost, duplicates only from in-flight."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.storage import open_storage
from db.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Group,
    GroupLevel,
)
from sandbox import Limits, SandboxConfig
from sandbox.testing import running_server
from sandbox.world import Member
from tests.scheduler.fakes import custom_broadcast

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
