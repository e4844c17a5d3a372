"""Check-in answers from every group within a few minutes, against the real Application.

    .venv/bin/python benchmarks/checkins.py                          # 5,000 groups in 5 minutes
    .venv/bin/python benchmarks/checkins.py --groups 500 --window 30 # quicker

``--groups`` groups (a leader and a member each) get a check-in (the H-1 logistics question)
and an ordinary broadcast through the engine (the sandbox's flood limits off for that setup
only). Then, with Telegram's limits on, presses arrive spread evenly over ``--window`` seconds,
pushed into the local Bot API server, which the bot polls like Telegram:

- ``baseline``: every leader presses "✅ Sudah dibaca" under the ordinary broadcast (the ack
  path, group commit), measured in the same run;
- ``check-in``: every leader answers the check-in (90 % "Sudah tiba", 6 % "Belum", 4 % "Ada
  masalah": each of those opens a report and the bot asks for a description in the group),
  and one member in ten presses too.

Printed for each: presses, answered, press-to-answer p50/p99/max, rows in the database, and
the bot's CPU seconds. The server runs on the bot's event loop, so its work is counted too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from benchmarks.acks_burst import running_bot
from bot.app import KentonganApp
from db.models import Broadcast, BroadcastSource, BroadcastStatus, Group, GroupLevel
from sandbox import BotApiServer, Limits, Member, SandboxConfig
from sandbox.world import Chat, User
from scheduler.checkin import CheckInAnswer, ResolvedCheckIn

KELURAHAN = "35.73.02.1008"
NOW = datetime(2024, 11, 26, 10, 0, tzinfo=UTC)  # H-1 17.00 WIB
ANSWERS = (
    CheckInAnswer("sudah", "Sudah tiba"),
    CheckInAnswer("belum", "Belum", "after_deadline"),
    CheckInAnswer("masalah", "Ada masalah", "now"),
)


@dataclass
class Phase:
    name: str
    presses: int
    answered: int
    latencies: list[float]
    seconds: float
    cpu: float

    def ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def populate(server: BotApiServer, groups: int) -> list[tuple[Chat, User, User]]:
    world = server.world
    out = []
    for i in range(groups):
        leader, member = world.add_user(f"Ketua {i}"), world.add_user(f"Warga {i}")
        chat = world.add_group(
            f"RT {i % 20 + 1:02d} RW {i // 20 + 1:03d}",
            "supergroup",
            admins=[leader],
            members=[member],
        )
        chat.bot_member = Member(world.bot, "member")
        out.append((chat, leader, member))
    return out


async def _register(app: KentonganApp, chats: list[tuple[Chat, User, User]]) -> None:
    rows = [
        {
            "chat_id": chat.id,
            "title": chat.title or "",
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
        for i, (chat, _l, _m) in enumerate(chats)
    ]
    async with app.bot_data.services.sessions.begin() as session:
        await session.execute(insert(Group), rows)


async def _send(app: KentonganApp, server: BotApiServer, *, checkin: bool) -> int:
    services = app.bot_data.services
    async with services.sessions.begin() as session:
        broadcast = Broadcast(
            source=BroadcastSource.TIMELINE if checkin else BroadcastSource.CUSTOM,
            message_key="checkin.logistik_tiba" if checkin else None,
            text=None if checkin else "<b>Besok ke TPS</b>: bawa KTP-el.",
            audience="all",
            scheduled_at=NOW,
            status=BroadcastStatus.SCHEDULED,
            created_at=NOW,
            checkin=ResolvedCheckIn(ANSWERS, NOW + timedelta(hours=4), "logistik").to_json()
            if checkin
            else None,
        )
        session.add(broadcast)
        await session.flush()
        broadcast_id = broadcast.id
    server.set_limits(Limits.off())  # setup only: thousands of sends need not take minutes
    try:
        summary = await services.broadcasts.run(broadcast_id)
    finally:
        server.set_limits(Limits())
    assert summary.failed == 0, summary
    return broadcast_id


def _message_id(chat: Chat, data: str) -> int:
    """The message carrying a button whose data is `data` (or starts with it, ending in ":")."""
    for message in chat.messages.values():
        for button in message.buttons():
            found = str(button.get("callback_data", ""))
            if found == data or (data.endswith(":") and found.startswith(data)):
                return message.message_id
    raise LookupError(data)


async def press_spread(
    server: BotApiServer,
    name: str,
    presses: list[tuple[User, Chat, int, str]],
    window: float,
) -> Phase:
    """Push `presses` evenly over `window` seconds; wait for every answer (or 30 s of quiet)."""
    world = server.world
    answers_before = len(world.callback_answers)
    pushed: dict[str, float] = {}
    cpu = time.process_time()
    started = time.time()
    per_tick = max(1, round(len(presses) / window * 0.05)) if window > 0 else len(presses)
    rate = len(presses) / window if window > 0 else float("inf")
    for offset in range(0, len(presses), per_tick):
        for user, chat, message_id, data in presses[offset : offset + per_tick]:
            pushed[world.press_button(user, chat, message_id, data)] = time.time()
        if window > 0:
            await asyncio.sleep(max(0.0, started + (offset + per_tick) / rate - time.time()))
    progress, quiet_since = -1, time.monotonic()
    while True:
        done = len(world.callback_answers) - answers_before
        if done >= len(presses) or time.monotonic() - quiet_since > 30:
            break
        if done != progress:
            progress, quiet_since = done, time.monotonic()
        await asyncio.sleep(0.05)
    answers = [a for a in world.callback_answers[answers_before:] if a.callback_query_id in pushed]
    latencies = [a.at - pushed[a.callback_query_id] for a in answers]
    return Phase(
        name,
        len(presses),
        len(answers),
        latencies,
        time.time() - started,
        time.process_time() - cpu,
    )


def _count(db: Path, sql: str) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as connection:
        return int(connection.execute(sql).fetchone()[0])


async def _rows(db: Path, sql: str, wanted: int, timeout: float = 30.0) -> int:
    """The count `sql` gives once it reaches `wanted` (or after `timeout`): other connections'
    commits are watched, so it is polled with a bound."""
    end = time.monotonic() + timeout
    count = _count(db, sql)
    while count < wanted and time.monotonic() < end:
        await asyncio.sleep(0.1)
        count = _count(db, sql)
    return count


def _line(phase: Phase, rows: int, rows_wanted: int) -> str:
    return (
        f"{phase.name:<10}{phase.presses:>8}{phase.answered:>9}{phase.ms(0.5):>9.0f}"
        f"{phase.ms(0.99):>9.0f}{phase.ms(1.0):>9.0f}{rows:>8}/{rows_wanted:<7}"
        f"{phase.cpu:>8.1f}{phase.seconds:>8.1f}"
    )


async def run(groups: int, window: float, seed: int, *, timed: bool = True) -> bool:
    """True when every press was answered and recorded (and, when `timed`, p99 < 1 s)."""
    rng = random.Random(seed)
    started = time.perf_counter()
    async with BotApiServer(SandboxConfig(limits=Limits())) as server:
        chats = populate(server, groups)
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "kentongan.db"
            async with running_bot((server.api_url, server.file_url, server.token), db) as app:
                await _register(app, chats)
                plain = await _send(app, server, checkin=False)
                checkin = await _send(app, server, checkin=True)
                print(
                    f"setup: {groups} groups, a broadcast and a check-in sent, "
                    f"{time.perf_counter() - started:.1f} s; presses spread over {window:.0f} s"
                )
                acks = [
                    (leader, chat, _message_id(chat, f"ack:{plain}"), f"ack:{plain}")
                    for chat, leader, _m in chats
                ]
                baseline = await press_spread(server, "baseline", acks, window)
                ack_rows = await _rows(db, "SELECT count(*) FROM acknowledgements", len(acks))

                answers = []
                for chat, leader, member in chats:
                    message_id = _message_id(chat, f"ci:{checkin}:")
                    roll = rng.random()
                    key = "masalah" if roll > 0.96 else "belum" if roll > 0.90 else "sudah"
                    answers.append((leader, chat, message_id, f"ci:{checkin}:{key}"))
                    if rng.random() < 0.1:
                        answers.append((member, chat, message_id, f"ci:{checkin}:sudah"))
                rng.shuffle(answers)
                measured = await press_spread(server, "check-in", answers, window)
                answer_rows = await _rows(db, "SELECT count(*) FROM checkin_answers", len(answers))
                reports = _count(db, "SELECT count(*) FROM checkin_followups")
                wanted_reports = sum(1 for a in answers if a[3].endswith(":masalah"))
    print(
        f"\n{'':<10}{'presses':>8}{'answered':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'rows in db':>16}{'cpu s':>8}{'wall s':>8}"
    )
    print(_line(baseline, ack_rows, len(acks)))
    print(_line(measured, answer_rows, len(answers)))
    print(f"reports opened by 'Ada masalah': {reports} (expected {wanted_reports})")
    counted = (
        measured.answered == len(answers)
        and answer_rows == len(answers)
        and reports == wanted_reports
    )
    fast = measured.ms(0.99) < 1000
    print(
        ("check-ins: all answered and recorded" if counted else "check-ins: TARGET MISSED (counts)")
        + ("; p99 < 1 s" if fast else "; p99 TARGET MISSED")
    )
    ok = counted and (fast or not timed)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=5000)
    parser.add_argument("--window", type=float, default=300.0, help="seconds the presses span")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return 0 if asyncio.run(run(args.groups, args.window, args.seed)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
