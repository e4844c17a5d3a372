"""End-to-end harness: the real Application, polling the local Bot API server, on real SQLite.

async def test_x(kentongan: Harness) -> None:
    siti = kentongan.world.add_user("Siti")
    reply = await kentongan.say(siti, "/start")          # waits for the bot's answer
    await kentongan.run_due()                             # broadcasts due on the test clock
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.app import KentonganApp, build_application
from bot.runner import polling
from bot.services import Services
from bot.settings import Settings
from bot.webhook import running_webhook
from db.models import Broadcast, BroadcastStatus, Group, GroupLevel
from sandbox import BotApiServer, CallbackQuery, Limits, SandboxConfig
from sandbox.server import WAIT_TIMEOUT
from sandbox.testing import running_server
from sandbox.world import Chat, Member, Message, User, World
from scheduler.clock import FixedClock
from scheduler.engine_config import EngineConfig
from scheduler.preparation import BroadcastSummary

ADMIN_ID = 910001
# Monday 25 November 2024, 08.00 WIB: H-2, in masa tenang.
DEFAULT_NOW = datetime(2024, 11, 25, 1, 0, tzinfo=UTC)
_forged_ids = itertools.count(9_000_000_000_000_000_001)


@dataclass
class Harness:
    server: BotApiServer
    app: KentonganApp
    clock: FixedClock
    settings: Settings
    _restart: Callable[[], Awaitable[KentonganApp]] | None = field(default=None, repr=False)

    @property
    def world(self) -> World:
        return self.server.world

    @property
    def services(self) -> Services:
        services = self.app.bot_data.services
        assert services is not None
        return services

    async def restart(self) -> None:
        """Stop the Application and start a new one on the same database and server, as a
        deploy or a crash and restart would: nothing in memory survives."""
        assert self._restart is not None
        self.app = await self._restart()

    def forge_press(self, user: User, message: Message, data: str) -> str:
        """A callback query Telegram would deliver for data the button does not carry (a forged
        client, or a button of a message the bot has since changed); its query id."""
        query = CallbackQuery(str(next(_forged_ids)), user, message, data, time.monotonic())
        self.world.callback_queries[query.id] = query
        self.world.push_update("callback_query", query.to_api())
        return query.id

    def admin(self) -> User:
        """The official from ADMIN_IDS, who has started the bot."""
        if ADMIN_ID in self.world.users:
            return self.world.users[ADMIN_ID]
        return self.world.add_user("Bu Admin", user_id=ADMIN_ID, started=True)

    async def say(
        self,
        user: User,
        text: str,
        chat: Chat | None = None,
        *,
        match: Callable[[Message], bool] | None = None,
        timeout: float = WAIT_TIMEOUT,
    ) -> Message:
        """`user` writes `text` (in their private chat unless `chat`); the bot's next message."""
        where: Chat | User = chat if chat is not None else user
        last = self.world.last_bot_message(where)
        after = last.message_id if last else 0
        self.world.user_sends(user, chat, text)
        return await self.server.wait_for_message(where, match, timeout, after=after)

    async def press(
        self,
        user: User,
        message: Message,
        button_text: str | None = None,
        *,
        data: str | None = None,
        chat: Chat | None = None,
        expect_message: bool = True,
        timeout: float = WAIT_TIMEOUT,
    ) -> Message | None:
        """Press a button of `message` (by its text or data).

        Returns the bot's next message in that chat, or `message` itself once the bot has
        edited it in place (flows that edit their keyboard message step by step).
        """
        where: Chat | User = chat if chat is not None else user
        if data is None:
            assert button_text is not None
            data = message.button(button_text)["callback_data"]
        last = self.world.last_bot_message(where)
        after = last.message_id if last else 0
        before = (message.text, message.edit_date, str(message.reply_markup))
        query_id = self.world.press_button(user, where, message.message_id, data)
        await self.server.wait_for_callback_answer(query_id, timeout)
        if not expect_message:
            return None

        def changed() -> Message | None:
            newer = [m for m in self.world.bot_messages(where) if m.message_id > after]
            if newer:
                return newer[0]
            if (message.text, message.edit_date, str(message.reply_markup)) != before:
                return message
            return None

        result: Message = await self.server.wait_until(changed, timeout)
        return result

    async def registered_groups(
        self,
        count: int,
        *,
        kelurahan: str = "35.73.05.1005",
        level: GroupLevel = GroupLevel.RW,
        members: int = 0,
    ) -> list[Chat]:
        """Groups that already have the bot and a registration (as if /daftar had run)."""
        chats: list[Chat] = []
        now = self.clock.now()
        async with self.services.sessions.begin() as session:
            for i in range(count):
                leader = self.world.add_user(f"Ketua {level.value.upper()} {i + 1}")
                people = [self.world.add_user(f"Warga {i + 1}.{j + 1}") for j in range(members)]
                chat = self.world.add_group(
                    f"{level.value.upper()} {i + 1:02d}",
                    "supergroup",
                    admins=[leader],
                    members=people,
                )
                # Put the bot in without updates: registration is what these tests start from.
                chat.bot_member = Member(self.world.bot, "member")
                session.add(
                    Group(
                        chat_id=chat.id,
                        title=chat.title or "",
                        chat_type="supergroup",
                        level=level,
                        kelurahan_code=kelurahan,
                        rw=i + 1,
                        rt=1 if level is GroupLevel.RT else None,
                        subscribed=True,
                        subscribed_by=leader.id,
                        subscribed_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                )
                chats.append(chat)
        return chats

    def db_rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """A synchronous read of the bot's database, for `server.wait_until` conditions.

        `?` placeholders; SQLite through sqlite3, PostgreSQL through asyncpg on its own loop
        in a worker thread (the condition runs inside the test's loop and cannot await).
        """
        return read_rows(self.settings.database_url, sql, *params)

    async def settle_due_at_start(self, timeout: float = 20.0) -> None:
        """Wait until broadcasts already due when the bot started have run.

        The app's jobs fire on the real scheduler's time while the domain reads the test
        clock, so the timeline steps due at `DEFAULT_NOW` run right after start-up. Left
        racing, they may reach a group a test registers a moment later (one extra delivery
        on a slow machine). Run now, they find no groups and end `done`.
        """
        now = self.clock.now()
        pending = (BroadcastStatus.SCHEDULED, BroadcastStatus.RUNNING)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            async with self.services.sessions() as session:
                left = (
                    await session.scalars(
                        select(Broadcast.id).where(
                            Broadcast.status.in_(pending), Broadcast.scheduled_at <= now
                        )
                    )
                ).all()
            if not left:
                return
            if loop.time() > deadline:
                raise AssertionError(f"broadcasts due at start never ran: {left}")
            await asyncio.sleep(0.02)

    async def run_due(self) -> list[BroadcastSummary]:
        """Run every broadcast whose time has come on the test clock, as the jobs would."""
        async with self.services.sessions() as session:
            ids = (
                await session.scalars(
                    select(Broadcast.id)
                    .where(
                        Broadcast.status.in_((BroadcastStatus.SCHEDULED, BroadcastStatus.RUNNING)),
                        Broadcast.scheduled_at <= self.clock.now(),
                    )
                    .order_by(Broadcast.scheduled_at, Broadcast.id)
                )
            ).all()
        return [await self.services.broadcasts.run(i) for i in ids]


WEBHOOK_SECRET = "uji-rahasia-webhook-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_rows(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        with contextlib.closing(sqlite3.connect(url.database, timeout=5)) as connection:
            return connection.execute(sql, params).fetchall()
    numbered = sql
    for n in range(1, len(params) + 1):
        numbered = numbered.replace("?", f"${n}", 1)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def fetch() -> list[tuple[Any, ...]]:
        import asyncpg

        connection = await asyncpg.connect(dsn)
        try:
            return [tuple(r) for r in await connection.fetch(numbered, *params)]
        finally:
            await connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, fetch()).result(timeout=30)


@asynccontextmanager
async def running_kentongan(
    tmp_path: Path,
    *,
    database_url: str | None = None,
    transport: str = "polling",
    now: datetime = DEFAULT_NOW,
    sandbox: SandboxConfig | None = None,
    engine: EngineConfig | None = None,
    **settings: Any,
) -> AsyncIterator[Harness]:
    config = sandbox or SandboxConfig(limits=Limits())
    async with running_server(config) as server:
        values: dict[str, Any] = {
            "telegram_bot_token": server.token,
            "telegram_base_url": server.api_url,
            "database_url": database_url or f"sqlite+aiosqlite:///{tmp_path / 'kentongan.db'}",
            "admin_ids": frozenset({ADMIN_ID}),
            "_env_file": None,
        }
        if transport == "webhook":
            port = free_port()
            values.update(
                webhook_url=f"http://127.0.0.1:{port}/telegram",
                webhook_secret=WEBHOOK_SECRET,
                webhook_port=port,
            )
        values.update(settings)
        app_settings = Settings(**values)
        clock = FixedClock(now)
        stack = AsyncExitStack()

        async def start() -> KentonganApp:
            app = build_application(
                app_settings,
                clock=clock,
                engine_config=engine or EngineConfig(rate=200, workers=8, backoff_base=0.01),
            )
            if transport == "webhook":
                hooks = len(server.calls_to("setWebhook"))
                await stack.enter_async_context(running_webhook(app, app_settings))
                await server.wait_until(lambda: len(server.calls_to("setWebhook")) > hooks or None)
                return app
            polls = len(server.calls_to("getUpdates"))
            await stack.enter_async_context(polling(app))
            await server.wait_until(lambda: len(server.calls_to("getUpdates")) > polls or None)
            return app

        async def restart() -> KentonganApp:
            await stack.aclose()
            return await start()

        async with stack:
            harness = Harness(server, await start(), clock, app_settings, _restart=restart)
            await harness.settle_due_at_start()
            try:
                yield harness
            finally:
                await stack.aclose()
