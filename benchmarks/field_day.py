"""A field day (issue 13): every group answers a check-in within 5 minutes while field reports
pour into one city posko in the same window, against the real Application.

    .venv/bin/python -m benchmarks field_day          # 5,000 groups, 500 reports, 5 minutes
    .venv/bin/python -m benchmarks field_day --groups 500 --reports 50 --window 30 --baseline 10

Setup, with the local Bot API server's flood limits off for the setup only: ``--groups``
registered groups spread over the 57 kelurahan (a leader and a member each), an ordinary
broadcast and the H-1 logistics check-in sent by the engine, and the city posko made with
``/posko`` by a root admin. Then, with Telegram's limits on:

1. ``ack baseline``: leaders press "✅ Sudah dibaca" (the ack path) at the rate the field day
   will press, for ``--baseline`` seconds (the same rate, so the same load per second);
2. ``check-in``: over ``--window`` seconds every leader answers (90 % "Sudah tiba", 6 %
   "Belum" before the deadline, 4 % "Ada masalah": a case posted to the posko and an ask for a
   description in the group) and one member in ten presses too; in the same window
   ``--reports`` /lapor-style reports from random groups (mixed categories) arrive evenly.
   They go **through the domain**: ``domain.field.reports.open_report`` and then what
   /lapor's last step does (the receipt to the group, the escalation job, the poster kicked);
   the guided steps before it are not replayed;
3. ``/lapangan`` by the root admin over it all, timed until its chart has arrived.

Printed: presses answered p50/p99/max and CPU per press beside the baseline, every press
recorded (counted in the database), the posko's messages, its busiest minute and the 429s,
every case posted, the board's time and the process's CPU (the server runs on the same loop,
so its work is counted too). Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select

from benchmarks.acks_burst import running_bot
from benchmarks.checkins import NOW, Phase, _count, _message_id, _rows, _send, press_spread
from benchmarks.field import busiest_minute, load
from bot.app import KentonganApp
from bot.field_jobs import schedule_new_case
from bot.field_posting import post_soon, poster, services_of, t
from db.models import Broadcast, BroadcastStatus, Group, GroupLevel
from domain.field.reports import open_report
from election.resources import shipped_regions
from sandbox import BotApiServer, Limits, Member, SandboxConfig
from sandbox.server import Call
from sandbox.world import Chat, User

ADMIN_ID = 900_001
ANSWER_ROWS = "SELECT count(*) FROM checkin_answers"
UNPOSTED = "SELECT count(*) FROM field_cases WHERE posted_at IS NULL"
FIELD_REPORTS = "SELECT count(*) FROM field_reports"
SENDS = ("sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup")
# /lapor's categories (domain/field/categories.toml) with a detail where the category has some.
REPORTS = (
    ("logistik", "belum_tiba"),
    ("logistik", "kurang"),
    ("tps", None),
    ("keamanan", None),
    ("politik_uang", None),
    ("hoaks", None),
    ("cuaca", None),
    ("lainnya", None),
)


@dataclass
class FieldDay:
    """What a run measured; `met` says whether every target was."""

    presses: int = 0
    baseline: Phase | None = None
    checkin: Phase | None = None
    answer_rows: int = 0
    reports_opened: int = 0
    reports_wanted: int = 0
    cases: int = 0
    unposted: int = 0
    posko_messages: int = 0
    posko_busiest_minute: int = 0
    posko_429s: int = 0
    all_429s: int = 0
    board_seconds: float = 0.0
    board_parts: int = 0
    drained_seconds: float = 0.0  # from the field day's start until the posko had every case
    posko_times: list[float] = field(default_factory=list)  # sends into it, as the server saw
    cpu_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def counts_ok(self) -> bool:
        assert self.checkin is not None
        return (
            self.checkin.answered == self.presses
            and self.answer_rows == self.presses
            and self.reports_opened == self.reports_wanted
            and self.unposted == 0
            and self.posko_429s == 0
            and self.all_429s == 0
            and self.posko_busiest_minute <= 20
            and self.board_parts == 3
        )

    @property
    def met(self) -> bool:
        assert self.checkin is not None
        return self.counts_ok and self.checkin.ms(0.99) < 1000 and self.board_seconds < 2.0


def kelurahan_codes() -> list[str]:
    with shipped_regions().open(encoding="utf-8") as rows:
        return [row["kode_kelurahan"] for row in csv.DictReader(rows)]


def populate(server: BotApiServer, groups: int) -> list[tuple[Chat, User, User]]:
    world = server.world
    out = []
    for i in range(groups):
        leader, member = world.add_user(f"Ketua {i}"), world.add_user(f"Warga {i}")
        chat = world.add_group(f"Grup {i}", "supergroup", admins=[leader], members=[member])
        chat.bot_member = Member(world.bot, "member")
        out.append((chat, leader, member))
    return out


async def register(app: KentonganApp, chats: list[tuple[Chat, User, User]]) -> list[int]:
    """Each group its own place (kelurahan, RW, RT): reports of two groups never share a case."""
    codes = kelurahan_codes()
    rows = []
    for i, (chat, _leader, _member) in enumerate(chats):
        n = i // len(codes)
        rows.append(
            {
                "chat_id": chat.id, "title": chat.title or "", "chat_type": "supergroup",
                "level": GroupLevel.RT, "kelurahan_code": codes[i % len(codes)],
                "rw": n // 20 + 1, "rt": n % 20 + 1, "active": True, "subscribed": True,
                "created_at": NOW, "updated_at": NOW,
            }
        )  # fmt: skip
    async with services_of(app).sessions.begin() as session:
        await session.execute(insert(Group), rows)
        by_chat = {c: g for c, g in await session.execute(select(Group.chat_id, Group.id))}
    return [by_chat[chat.id] for chat, _l, _m in chats]


async def report_stream(
    app: KentonganApp,
    posko: Chat,
    groups: list[tuple[int, Chat]],
    window: float,
    rng: random.Random,
) -> int:
    """/lapor-style reports from `groups` evenly over `window` seconds; how many went in."""
    services = services_of(app)
    started = time.monotonic()
    opened = 0
    for n, (group_id, chat) in enumerate(groups):
        await asyncio.sleep(max(0.0, started + n * window / len(groups) - time.monotonic()))
        category, detail = rng.choice(REPORTS)
        async with services.sessions.begin() as session:
            report = await open_report(
                session, group_id=group_id, reporter_id=None, category=category, detail=detail,
                description=f"Laporan lapangan nomor {n + 1} dari grup ini.", source="lapor",
                source_chat_id=chat.id, now=services.clock.now(),
            )  # fmt: skip
        opened += 1
        await app.bot.send_message(
            chat.id, t(services, "ui.lapor.diterima", nomor=report.report_id)
        )
        if report.new_case:
            await schedule_new_case(app, report.case_id)
        post_soon(app, posko.id)
    return opened


async def lapangan(server: BotApiServer, admin: User) -> tuple[float, int]:
    """/lapangan in the admin's private chat: seconds until text, CSV and chart are in."""
    world = server.world
    last = world.last_bot_message(admin)
    after = last.message_id if last else 0
    started = time.monotonic()
    world.user_sends(admin, None, "/lapangan")
    await server.wait_for_message(admin, lambda m: m.photo is not None, 30.0, after=after)
    seconds = time.monotonic() - started
    parts = [m for m in world.bot_messages(admin) if m.message_id > after]
    kinds = {("photo" if m.photo else "document" if m.document else "text") for m in parts}
    return seconds, len(kinds)


async def settle(app: KentonganApp) -> None:
    """Whatever the election's agendas made due at start runs now, before the groups exist (as
    the e2e harness does): nothing of it reaches them later."""
    services = services_of(app)
    async with services.sessions() as session:
        due = await session.scalars(
            select(Broadcast.id).where(
                Broadcast.status.in_((BroadcastStatus.SCHEDULED, BroadcastStatus.RUNNING)),
                Broadcast.scheduled_at <= services.clock.now(),
            )
        )
        ids = list(due.all())
    for broadcast_id in ids:
        await services.broadcasts.run(broadcast_id)


def checkin_presses(
    chats: list[tuple[Chat, User, User]], checkin: int, rng: random.Random
) -> tuple[list[tuple[User, Chat, int, str]], int]:
    """Every leader's answer and some members'; and how many reports they should open."""
    presses, reports = [], 0
    for chat, leader, member in chats:
        message_id = _message_id(chat, f"ci:{checkin}:")
        roll = rng.random()
        key = "masalah" if roll > 0.96 else "belum" if roll > 0.90 else "sudah"
        reports += key == "masalah"  # "Belum" before the deadline only counts
        presses.append((leader, chat, message_id, f"ci:{checkin}:{key}"))
        if rng.random() < 0.1:
            presses.append((member, chat, message_id, f"ci:{checkin}:sudah"))
    rng.shuffle(presses)
    return presses, reports


async def run(groups: int, reports: int, window: float, baseline: float, seed: int) -> FieldDay:
    rng = random.Random(seed)
    day = FieldDay()
    started = time.perf_counter()
    async with BotApiServer(SandboxConfig(limits=Limits())) as server:
        world = server.world
        admin = world.add_user("Admin Posko", user_id=ADMIN_ID, started=True)
        posko = world.add_group("Posko Kota", "supergroup", admins=[admin], bot="member")
        chats = populate(server, groups)
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "kentongan.db"
            urls = (server.api_url, server.file_url, server.token)
            async with running_bot(urls, db, frozenset({ADMIN_ID})) as app:
                await settle(app)
                ids = await register(app, chats)
                plain = await _send(app, server, checkin=False)
                checkin = await _send(app, server, checkin=True)
                world.user_sends(admin, posko, "/posko")
                await server.wait_for_message(posko, None, 10.0)
                print(
                    f"setup: {groups} groups, a broadcast, a check-in and a posko, "
                    f"{time.perf_counter() - started:.1f} s ({load()})"
                )
                presses, day.reports_wanted = checkin_presses(chats, checkin, rng)
                day.presses = len(presses)
                rate = len(presses) / window
                acks = [
                    (leader, chat, _message_id(chat, f"ack:{plain}"), f"ack:{plain}")
                    for chat, leader, _m in chats[: max(1, min(len(chats), round(rate * baseline)))]
                ]
                day.baseline = await press_spread(server, "ack baseline", acks, baseline)
                calls_before = len(server.calls)

                groups_and_chats = list(zip(ids, (c for c, _l, _m in chats), strict=True))
                senders = rng.sample(groups_and_chats, min(reports, len(ids)))
                cpu, wall = time.process_time(), time.monotonic()
                stream = asyncio.create_task(report_stream(app, posko, senders, window, rng))
                day.checkin = await press_spread(server, "check-in", presses, window)
                opened = await stream
                reported = time.monotonic() - wall
                day.answer_rows = await _rows(db, ANSWER_ROWS, len(presses))
                await poster(app).idle()
                day.drained_seconds = time.monotonic() - wall
                day.cpu_seconds = time.process_time() - cpu
                count_field(day, db, server.calls[calls_before:], posko)
                day.notes.append(
                    f"presses done {day.checkin.seconds:.0f} s, reports in {reported:.0f} s, "
                    f"every case in the posko {day.drained_seconds:.0f} s after the start"
                )
                day.board_seconds, day.board_parts = await lapangan(server, admin)
                day.notes.append(
                    f"{opened} /lapor-style reports and {day.reports_opened} check-in reports: "
                    f"{_count(db, FIELD_REPORTS)} field reports in {day.cases} cases"
                )
    print_day(day, window)
    return day


def count_field(day: FieldDay, db: Path, calls: list[Call], posko: Chat) -> None:
    """Reports, cases and the posko's share of the requests, from the database and the server."""
    day.reports_opened = _count(db, "SELECT count(*) FROM checkin_followups")
    day.cases = _count(db, "SELECT count(*) FROM field_cases")
    day.unposted = _count(db, UNPOSTED)
    into_posko = [c for c in calls if c.method in SENDS and c.params.get("chat_id") == posko.id]
    day.posko_times = [c.at for c in into_posko if c.status == 200]
    day.posko_messages = len(day.posko_times)
    day.posko_busiest_minute = busiest_minute(day.posko_times)
    day.posko_429s = sum(1 for c in into_posko if c.status == 429)
    day.all_429s = sum(1 for c in calls if c.status == 429)


def print_day(day: FieldDay, window: float) -> None:
    base, ours = day.baseline, day.checkin
    assert base is not None and ours is not None

    def per_press(phase: Phase) -> str:
        return f"{phase.cpu / max(1, phase.presses) * 1000:.1f}"

    print(f"\n{'':<28}{'check-in + reports':>20}{'ack baseline':>16}")
    rows = [
        ("presses", ours.presses, base.presses),
        ("answered", ours.answered, base.answered),
        ("p50 ms", f"{ours.ms(0.5):.0f}", f"{base.ms(0.5):.0f}"),
        ("p99 ms", f"{ours.ms(0.99):.0f}", f"{base.ms(0.99):.0f}"),
        ("max ms", f"{ours.ms(1.0):.0f}", f"{base.ms(1.0):.0f}"),
        ("press window s", f"{window:.0f}", f"{base.seconds:.0f}"),
        ("CPU s (phase)", f"{ours.cpu:.1f}", f"{base.cpu:.1f}"),
        ("CPU ms per press", per_press(ours), per_press(base)),
        ("answers in the database", f"{day.answer_rows}/{day.presses}", "-"),
        ("check-in reports opened", f"{day.reports_opened}/{day.reports_wanted}", "-"),
        ("field cases / unposted", f"{day.cases}/{day.unposted}", "-"),
        ("posko messages", day.posko_messages, "-"),
        ("posko busiest minute", day.posko_busiest_minute, "-"),
        ("posko 429s / all 429s", f"{day.posko_429s}/{day.all_429s}", "-"),
        ("/lapangan s (text+CSV+PNG)", f"{day.board_seconds:.2f}", "-"),
        ("process CPU s (field day)", f"{day.cpu_seconds:.1f}", "-"),
    ]
    for name, a, b in rows:
        print(f"{name:<28}{a!s:>20}{b!s:>16}")
    for note in day.notes:
        print(note)
    print(
        "targets (every press answered and recorded, p99 < 1 s, every report opened and "
        "posted, 0 x 429, <= 20 a minute into the posko, /lapangan < 2 s):",
        "met" if day.met else "MISSED",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--groups", type=int, default=5000)
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--window", type=float, default=300.0, help="seconds the field day spans")
    parser.add_argument("--baseline", type=float, default=60.0, help="seconds of ack presses")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    day = asyncio.run(run(args.groups, args.reports, args.window, args.baseline, args.seed))
    return 0 if day.met else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
