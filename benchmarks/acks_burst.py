"""A burst of "✅ Sudah dibaca" presses against the real Application (issue 6).

    .venv/bin/python benchmarks/acks_burst.py                 # 2,000 groups x 5 presses
    .venv/bin/python benchmarks/acks_burst.py --groups 400    # quicker
    .venv/bin/python benchmarks/acks_burst.py --in-process    # server on the bot's event loop

``--groups`` groups get two broadcasts through the engine (the sandbox's flood limits off for
that setup only), then, with Telegram's limits on, every group's five people (one of them its
admin) press ✅: ``world.press_button`` pushes the presses into the local Bot API server, the
bot polls them like Telegram's updates, records and answers. Each phase is measured beside a
baseline in the same run, a handler of the same shape that answers without recording:

- ``burst``: every press of one broadcast pushed at once: answers per second (first press to
  last answer), acknowledgements in the database, press-to-answer p50/p99/max, and how many
  answers came too late (Telegram's 15 s);
- ``paced``: the other broadcast's presses arriving steadily at ``--rate`` a second.

By default the server runs in a process of its own (one core each on a 2-core machine, as
Telegram is elsewhere); ``--in-process`` puts it on the bot's event loop, so its work is added.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing as mp
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert
from telegram import Update
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler

from bot.app import KentonganApp, build_application
from bot.context import BotContext
from bot.settings import Settings
from db.models import Broadcast, BroadcastSource, BroadcastStatus, Group, GroupLevel
from sandbox import BotApiServer, Limits, Member, SandboxConfig
from scheduler.clock import FixedClock
from scheduler.engine_config import EngineConfig

PEOPLE_PER_GROUP = 5
KELURAHAN = "35.73.05.1005"
NOW = datetime(2024, 11, 25, 1, 0, tzinfo=UTC)


@dataclass
class Phase:
    name: str
    presses: int
    seconds: float  # first press pushed to last answer
    answered: int
    late: int  # answers Telegram refused: the query was too old
    latencies: list[float]
    cpu: float = 0.0  # the bot process's CPU seconds over the phase (and the server's, in-process)
    server_cpu: float = 0.0  # the server process's, when it has its own

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


# -- the server side: the world, the presses, what was answered ---------------------------------


def populate(server: BotApiServer, groups: int) -> list[tuple[int, str]]:
    """Groups of five the bot is already in (no join updates); (chat id, title) of each."""
    world = server.world
    out = []
    for i in range(groups):
        people = [world.add_user(f"Warga {i}-{j}") for j in range(PEOPLE_PER_GROUP)]
        chat = world.add_group(
            f"RT {i % 20 + 1:02d} RW {i // 20 + 1:03d}",
            "supergroup",
            admins=people[:1],
            members=people[1:],
        )
        chat.bot_member = Member(world.bot, "member")
        out.append((chat.id, chat.title or ""))
    return out


async def press_all(
    server: BotApiServer, name: str, broadcast_id: int, rate: float | None
) -> Phase:
    """Everyone presses ✅ under `broadcast_id` (at once, or `rate` a second); wait for answers."""
    world = server.world
    data = f"ack:{broadcast_id}"
    targets = []
    for chat in world.chats.values():
        if chat.type != "supergroup":
            continue
        message = next(
            (m for m in chat.messages.values() if any(
                b.get("callback_data") == data for b in m.buttons())),
            None,
        )  # fmt: skip
        if message is not None:
            targets.append((chat, message.message_id, [m.user for m in chat.members.values()]))
    presses = [
        (people[j], chat, message_id)
        for j in range(PEOPLE_PER_GROUP)
        for chat, message_id, people in targets
    ]
    answers_before = len(world.callback_answers)
    calls_before = len(server.calls)
    cpu = time.process_time()
    pushed: dict[str, float] = {}
    started = time.time()
    if rate is None:
        for person, chat, message_id in presses:
            pushed[world.press_button(person, chat, message_id, data)] = time.time()
    else:
        per_tick = max(1, round(rate * 0.05))
        for offset in range(0, len(presses), per_tick):
            for person, chat, message_id in presses[offset : offset + per_tick]:
                pushed[world.press_button(person, chat, message_id, data)] = time.time()
            await asyncio.sleep(max(0.0, started + (offset + per_tick) / rate - time.time()))
    deadline = time.monotonic() + 60
    progress, quiet_since = -1, time.monotonic()
    while True:
        done = len(world.callback_answers) - answers_before
        late = sum(
            1 for c in server.calls[calls_before:] if c.method == "answerCallbackQuery" and not c.ok
        )
        if done + late >= len(presses) or time.monotonic() > deadline:
            break
        if done + late != progress:
            progress, quiet_since = done + late, time.monotonic()
        elif time.monotonic() - quiet_since > 3:  # the bot skips answers it knows are too late
            break
        await asyncio.sleep(0.02)
    answers = world.callback_answers[answers_before:]
    latencies = [a.at - pushed[a.callback_query_id] for a in answers]
    last = max((a.at for a in answers), default=started)
    phase = Phase(name, len(presses), last - started, len(answers), late, latencies)
    phase.server_cpu = time.process_time() - cpu
    return phase


def lookups(server: BotApiServer) -> int:
    return sum(1 for c in server.calls if c.method == "getChatAdministrators")


class LocalServer:
    """The server on this event loop."""

    def __init__(self, groups: int, *, shared: bool = True) -> None:
        self.shared = shared
        self.server = BotApiServer(SandboxConfig(limits=Limits()))
        self.groups = groups
        self.chats: list[tuple[int, str]] = []

    async def start(self) -> None:
        await self.server.start()
        self.chats = populate(self.server, self.groups)

    @property
    def urls(self) -> tuple[str, str, str]:
        return self.server.api_url, self.server.file_url, self.server.token

    async def limits(self, on: bool) -> None:
        self.server.set_limits(Limits() if on else Limits.off())

    async def press(self, name: str, broadcast_id: int, rate: float | None) -> Phase:
        phase = await press_all(self.server, name, broadcast_id, rate)
        if self.shared:  # one process: all of it is the bot's CPU, server included
            phase.cpu, phase.server_cpu = phase.server_cpu, 0.0
        return phase

    async def lookups(self) -> int:
        return lookups(self.server)

    async def stop(self) -> None:
        await self.server.stop()


def _serve(conn: Connection, groups: int) -> None:
    async def main() -> None:
        local = LocalServer(groups, shared=False)
        await local.start()
        conn.send((local.urls, local.chats))
        loop = asyncio.get_running_loop()
        while True:
            command, *args = await loop.run_in_executor(None, conn.recv)
            if command == "stop":
                break
            conn.send(await getattr(local, command)(*args))
        await local.stop()
        conn.send("stopped")

    asyncio.run(main())


class ChildServer:
    """The server in a process of its own, driven over a pipe."""

    def __init__(self, groups: int) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child, groups), daemon=True)
        self.chats: list[tuple[int, str]] = []
        self.urls = ("", "", "")
        self._child = child

    async def start(self) -> None:
        self._process.start()
        self.urls, self.chats = await asyncio.to_thread(self._conn.recv)

    async def _call(self, *command: Any) -> Any:
        self._conn.send(command)
        return await asyncio.to_thread(self._conn.recv)

    async def limits(self, on: bool) -> None:
        await self._call("limits", on)

    async def press(self, name: str, broadcast_id: int, rate: float | None) -> Phase:
        cpu = time.process_time()
        phase: Phase = await self._call("press", name, broadcast_id, rate)
        phase.cpu = time.process_time() - cpu
        return phase

    async def lookups(self) -> int:
        count: int = await self._call("lookups")
        return count

    async def stop(self) -> None:
        await self._call("stop")
        self._process.join(10)


# -- the bot side ------------------------------------------------------------------------------


@asynccontextmanager
async def running_bot(
    urls: tuple[str, str, str], db: Path, admin_ids: frozenset[int] = frozenset()
) -> AsyncIterator[KentonganApp]:
    """The real Application polling the server, as `python -m bot run` would; `admin_ids`:
    its root admins (ADMIN_IDS)."""
    api_url, _file_url, token = urls
    settings = Settings(
        telegram_bot_token=token,  # type: ignore[arg-type]
        telegram_base_url=api_url,
        database_url=f"sqlite+aiosqlite:///{db}",
        admin_ids=admin_ids,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = build_application(
        settings,
        clock=FixedClock(NOW),
        engine_config=EngineConfig(rate=2000, workers=32, claim_batch=64),
    )
    async with app:
        assert app.post_init is not None and app.post_shutdown is not None
        await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            await app.post_shutdown(app)


async def _recorded(db: Path, count: int) -> float:
    """Seconds until the database holds `count` acknowledgements (polled: it is another
    connection's commits that are watched)."""
    started = time.perf_counter()
    while _db_count(db, "SELECT count(*) FROM acknowledgements") < count:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


def _db_count(db: Path, sql: str) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as connection:
        return int(connection.execute(sql).fetchone()[0])


async def _register(app: KentonganApp, chats: list[tuple[int, str]]) -> None:
    rows = [
        {
            "chat_id": chat_id,
            "title": title,
            "chat_type": "supergroup",
            "level": GroupLevel.RT,
            "kelurahan_code": KELURAHAN,
            "rw": i // 20 + 1,
            "rt": i % 20 + 1,
            "active": True,
            "subscribed": True,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i, (chat_id, title) in enumerate(chats)
    ]
    async with app.bot_data.services.sessions.begin() as session:
        await session.execute(insert(Group), rows)


async def _broadcast(app: KentonganApp, server: Any, text: str) -> int:
    services = app.bot_data.services
    async with services.sessions.begin() as session:
        broadcast = Broadcast(
            source=BroadcastSource.CUSTOM,
            text=text,
            audience="all",
            scheduled_at=NOW,
            status=BroadcastStatus.SCHEDULED,
            created_at=NOW,
        )
        session.add(broadcast)
        await session.flush()
        broadcast_id = broadcast.id
    await server.limits(False)  # setup only: thousands of sends need not take minutes
    try:
        summary = await services.broadcasts.run(broadcast_id)
    finally:
        await server.limits(True)
    assert summary.failed == 0, summary
    return broadcast_id


class AnswerOnly:
    """Baseline: the real handler's shape (non-blocking, as many at once, answered through the
    same Bot) minus the recording."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.limit = asyncio.Semaphore(real.config.presses_at_once)

    async def __call__(self, update: Update, context: BotContext) -> None:
        context.application.create_task(self.answer(update, context))
        raise ApplicationHandlerStop  # the real handler (group 0) never sees the press

    async def answer(self, update: Update, context: BotContext) -> None:
        assert update.callback_query is not None
        bot = await self.real.side_bot(context)
        async with self.limit:
            await bot.answer_callback_query(update.callback_query.id, "Terima kasih.")


def _ack_buttons(app: KentonganApp) -> Any:
    for handler in app.handlers.get(0, []):
        owner = getattr(getattr(handler, "callback", None), "__self__", None)
        if owner is not None and type(owner).__name__ == "AckButtons":
            return owner
    raise LookupError("the acknowledgement handler is not registered")


async def run(groups: int, rate: float, in_process: bool) -> None:
    server: Any = LocalServer(groups) if in_process else ChildServer(groups)
    started = time.perf_counter()
    await server.start()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "kentongan.db"
        try:
            async with running_bot(server.urls, db) as app:
                await _register(app, server.chats)
                first = await _broadcast(app, server, "<b>Besok ke TPS</b>: bawa KTP-el.")
                second = await _broadcast(app, server, "<b>TPS buka</b> pukul 07.00 WIB.")
                where = "on the bot's event loop" if in_process else "in its own process"
                print(
                    f"setup: {groups} groups, 2 broadcasts sent, server {where}, "
                    f"{time.perf_counter() - started:.1f} s"
                )
                real = _ack_buttons(app)
                baseline = CallbackQueryHandler(AnswerOnly(real), pattern="^ack:")
                app.add_handler(baseline, group=-2)
                base_burst = await server.press("baseline burst", first, None)
                base_paced = await server.press("baseline paced", second, rate)
                app.remove_handler(baseline, group=-2)

                presses = groups * PEOPLE_PER_GROUP
                real_burst, recorded_in = await asyncio.gather(
                    server.press("kentongan burst", first, None), _recorded(db, presses)
                )
                real_paced = await server.press("kentongan paced", second, rate)
                recorded = _db_count(db, "SELECT count(*) FROM acknowledgements")
                await real.writer.drain()
                settle = time.perf_counter()
                expected_admins = 2 * groups
                # The flags are written by tasks the handlers left running: poll the database.
                while (  # noqa: ASYNC110
                    _db_count(db, "SELECT count(*) FROM acknowledgements WHERE is_admin")
                    < expected_admins
                    and time.perf_counter() - settle < 60
                ):
                    await asyncio.sleep(0.1)
                settled = time.perf_counter() - settle
                admins = _db_count(db, "SELECT count(*) FROM acknowledgements WHERE is_admin")
                report(
                    [base_burst, real_burst, base_paced, real_paced],
                    recorded_in=recorded_in,
                    recorded=recorded,
                    expected=2 * groups * PEOPLE_PER_GROUP,
                    real=real,
                    lookups=await server.lookups(),
                    admins=(admins, expected_admins, settled),
                )
        finally:
            await server.stop()


def report(
    phases: list[Phase],
    *,
    recorded_in: float,
    recorded: int,
    expected: int,
    real: Any,
    lookups: int,
    admins: tuple[int, int, float],
) -> None:
    print()
    print(
        f"{'phase':<16} {'presses':>7} {'answered':>8} {'per s':>6} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'late':>5} {'bot cpu ms':>10} "
        f"{'server cpu ms':>13}"
    )
    for p in phases:
        print(
            f"{p.name:<16} {p.presses:>7} {p.answered:>8} {p.per_second:>6.0f} "
            f"{p.ms(0.5):>7.0f} {p.ms(0.99):>7.0f} {p.ms(1.0):>7.0f} {p.late:>5} "
            f"{p.cpu / p.presses * 1000:>10.2f} {p.server_cpu / p.presses * 1000:>13.2f}"
        )
    print("(bot/server cpu ms: CPU time per press of each process over the phase)")
    burst = phases[1]
    print()
    print(
        f"burst: {burst.presses} acknowledgements in the database {recorded_in:.2f} s after the "
        f"first press = {burst.presses / recorded_in:.0f}/s recorded; answered "
        f"{burst.per_second:.0f}/s (baseline, answering only: {phases[0].per_second:.0f}/s)"
    )
    print(
        f"acknowledgements in the database: {recorded} (expected {expected}); "
        f"{real.unanswered} recorded too late to answer (Telegram's 15 s), not answered"
    )
    batches = real.writer.batches
    print(f"write transactions: {batches} (~{recorded / max(1, batches):.0f} presses each)")
    flagged, wanted, settled = admins
    print(
        f"admin look-ups (getChatAdministrators): {lookups}; {flagged}/{wanted} leaders "
        f"flagged, {settled:.1f} s after the last answer"
    )
    print(
        f"count edits so far: {real.counts.edits} ({real.counts.waiting} buttons waiting; "
        f"at most {real.config.edits_per_tick} edits a {real.config.tick:.0f} s tick)"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="acks_burst", description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=600.0, help="presses/s in the paced phase")
    parser.add_argument("--in-process", action="store_true", help="server on the bot's loop")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(run(args.groups, args.rate, args.in_process))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
