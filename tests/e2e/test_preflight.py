"""Pre-flight end to end: python-telegram-bot over HTTP to the local Bot API server, real SQLite.

The bot is not polling here: these are the changes it missed (it was down, or Telegram never
sent the update), which is what a pre-flight exists to find.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.http_sender import broadcast_bot
from bot.preflight import BotProber
from bot.preflight_cli import main as preflight_main
from bot.storage import open_storage
from db.engine import SessionFactory
from db.models import Group, GroupLevel, ReachOutcome
from domain.preflight import run_preflight
from domain.reach import reach, reach_text
from election.profile import load_profile
from messages.telegram_html import visible_text
from sandbox import BotApiServer, Limits
from sandbox.testing import running_server
from sandbox.world import Chat
from scheduler.clock import FixedClock

NOW = datetime(2024, 11, 26, 3, 0, tzinfo=UTC)  # H-1 10.00 WIB
SUMBERSARI = "35.73.05.1005"


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    # Reads limited as a benchmark would: the check must pace itself, not hit 429.
    async with running_server(limits=Limits(read_per_second=30, read_burst=5)) as server:
        yield server


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[tuple[str, SessionFactory]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kentongan.db'}"
    engine, sessions = await open_storage(url, frozenset(), NOW)
    yield url, sessions
    await engine.dispose()


async def register(sessions: SessionFactory, chats: list[Chat]) -> None:
    async with sessions.begin() as session:
        for i, chat in enumerate(chats):
            session.add(
                Group(
                    chat_id=chat.id,
                    title=chat.title or "",
                    chat_type=chat.type,
                    level=GroupLevel.RW,
                    kelurahan_code=SUMBERSARI,
                    rw=i + 1,
                    subscribed=True,
                    subscribed_at=NOW,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )


def groups_with_trouble(server: BotApiServer) -> dict[str, Chat]:
    world = server.world
    leader = world.add_user("Pak RW")
    chats = {}
    for name, kind in (
        ("fine", "supergroup"),
        ("kicked", "supergroup"),
        ("restricted", "supergroup"),
        ("closed", "group"),
        ("migrating", "group"),
    ):
        chat = world.add_group(f"RW {name}", kind, admins=[leader])  # type: ignore[arg-type]
        world.add_bot_to_group(chat, by=leader)
        chats[name] = chat
    world.kick_bot(chats["kicked"])
    world.restrict_bot(chats["restricted"])
    world.set_members_can_send(chats["closed"], False)
    return chats


async def test_preflight_finds_kicked_restricted_and_migrated_groups_and_fixes_migrations(
    server: BotApiServer, storage: tuple[str, SessionFactory]
) -> None:
    _, sessions = storage
    chats = groups_with_trouble(server)
    await register(sessions, list(chats.values()))
    supergroup = server.world.migrate_to_supergroup(chats["migrating"])

    bot = broadcast_bot(server.token, server.api_url, server.file_url, pool=4)
    async with bot:
        run = await run_preflight(sessions, BotProber(bot), FixedClock(NOW).now, rate=30)
    found = {f.chat_id: f.outcome for f in run.findings}
    assert found == {
        chats["fine"].id: ReachOutcome.OK,
        chats["kicked"].id: ReachOutcome.KICKED,
        chats["restricted"].id: ReachOutcome.CANNOT_SEND,
        chats["closed"].id: ReachOutcome.CANNOT_SEND,
        supergroup.id: ReachOutcome.OK,
    }
    assert run.retry_after == 0
    assert [c.status for c in server.calls if c.method in ("getChat", "getChatMember")].count(
        429
    ) == 0

    async with sessions() as session:
        rows = {g.chat_id: g for g in (await session.scalars(select(Group))).all()}
        result = await reach(session)
    assert chats["migrating"].id not in rows
    moved = rows[supergroup.id]
    assert (moved.chat_type, moved.migrated_from_chat_id, moved.subscribed, moved.active) == (
        "supergroup",
        chats["migrating"].id,
        True,
        True,
    )
    assert not rows[chats["kicked"].id].active
    text = visible_text(reach_text(result, load_profile(), NOW))
    assert text.startswith(
        "📡 Siaran berikutnya menjangkau 2 dari 5 grup; 1 bot dikeluarkan, "
        "1 pindah ke supergrup (sudah diperbarui), 2 tidak boleh mengirim pesan."
    )
    assert "Sumbersari (Lowokwaru)" in text
    assert "RW 02 · RW kicked — bot dikeluarkan" in text


async def test_preflight_from_the_shell(
    server: BotApiServer,
    storage: tuple[str, SessionFactory],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    url, sessions = storage
    chats = groups_with_trouble(server)
    await register(sessions, list(chats.values()))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", server.token)
    monkeypatch.setenv("TELEGRAM_BASE_URL", server.api_url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    # main() runs its own event loop: in a thread, while this loop serves the sandbox.
    assert await asyncio.to_thread(preflight_main, ["--rate", "30"]) == 0
    out = capsys.readouterr()
    assert "menjangkau 2 dari 5 grup" in out.out
    assert "0x 429" in out.err
    assert await asyncio.to_thread(preflight_main, ["--rate", "500"]) == 2
    assert "--rate harus antara" in capsys.readouterr().err
