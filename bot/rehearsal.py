"""The rehearsal: the whole timeline against the local Bot API server, in about a minute.

Same Application, engine, jobs and database code as production; only the clock (a
RehearsalClock that skips the quiet hours) and the server (sandbox, with Telegram's limits on)
differ. Simulated RW/RT groups across all 57 kelurahan, residents pressing "Sudah dibaca", a
kicked group and a group upgraded to a supergroup on the way.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TextIO

from sqlalchemy import func, select

from bot.agenda_cli import AGENDAS_DIR
from bot.app import build_application
from bot.jobs import rebuild_jobs
from bot.runner import polling
from bot.settings import Settings
from db.models import Acknowledgement, Broadcast, BroadcastStatus, Delivery, Group, GroupLevel
from db.models import Agenda as AgendaRow
from domain.agendas import pause, read_bundled
from domain.broadcasts import STATUS_LABEL
from domain.regions import read_regions
from election.profile import load_profile
from messages.context import format_day
from sandbox import BotApiServer, Fault, Latency, Limits, SandboxConfig
from sandbox.world import Chat, Member, User, World
from scheduler.agenda import Agenda, materialise
from scheduler.agenda_file import parse_agenda
from scheduler.clock import RehearsalClock
from scheduler.timeline import load_timeline, parse_relative

DONE = (BroadcastStatus.DONE, BroadcastStatus.SKIPPED, BroadcastStatus.CANCELLED)


@dataclass
class RehearsalOptions:
    rt_every: int = 3  # one RT group in every n-th kelurahan, besides one RW group in each
    members: int = 4
    ack_probability: float = 0.5
    speed: float = 60.0
    seed: int = 7
    latency_ms: tuple[float, float] = (20.0, 60.0)
    server_error_rate: float = 0.01
    database: Path | None = None
    # Any DATABASE_URL (e.g. an empty PostgreSQL database); default a temporary SQLite file.
    database_url: str | None = None
    max_seconds: float = 600.0
    # An agenda's name (election/data/agendas/); None plays the election timeline.
    agenda: str | None = None


@dataclass
class BroadcastLine:
    id: int
    key: str
    at: datetime
    status: BroadcastStatus
    reason: str | None
    counts: dict[str, int] = field(default_factory=dict)
    acks: int = 0


@dataclass
class RehearsalResult:
    groups: int
    lines: list[BroadcastLine]
    seconds: float
    too_many_requests: int
    server_errors: int
    presses: int

    @property
    def delivered(self) -> int:
        return sum(line.counts.get("sent", 0) for line in self.lines)

    @property
    def ok(self) -> bool:
        return all(line.status in DONE for line in self.lines)


class _Town:
    """The simulated city: leaders and residents in RW/RT groups that already registered."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.groups: list[Chat] = []
        self.members: dict[int, list[User]] = {}

    def build(self, options: RehearsalOptions) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for index, region in enumerate(read_regions()):
            plans: list[tuple[GroupLevel, int, int | None]] = [(GroupLevel.RW, 1 + index % 7, None)]
            if index % options.rt_every == 0:
                plans.append((GroupLevel.RT, 1 + index % 7, 1 + index % 5))
            for level, rw, rt in plans:
                leader = self.world.add_user(f"Ketua {level.value.upper()} {region.name}")
                people = [
                    self.world.add_user(f"Warga {region.name} {n + 1}")
                    for n in range(options.members)
                ]
                # A few basic groups, so one can be upgraded to a supergroup on the way.
                kind: Literal["group", "supergroup"] = "group" if index % 10 == 0 else "supergroup"
                title = f"{level.value.upper()} {rw:02d}" + (f" RT {rt:02d}" if rt else "")
                chat = self.world.add_group(
                    f"{title} {region.name}", kind, admins=[leader], members=people
                )
                chat.bot_member = Member(self.world.bot, "member")
                self.groups.append(chat)
                self.members[chat.id] = [leader, *people]
                rows.append(
                    {
                        "chat_id": chat.id,
                        "title": chat.title,
                        "chat_type": kind,
                        "level": level,
                        "kelurahan_code": region.code,
                        "rw": rw,
                        "rt": rt,
                        "subscribed_by": leader.id,
                    }
                )
        return rows

    def press_some(self, seen: set[tuple[int, int]], probability: float) -> int:
        """Residents read new reminders; some press "Sudah dibaca"."""
        presses = 0
        for chat in self.groups:
            if chat.migrated_to is not None:
                continue
            for message in self.world.bot_messages(chat):
                if (chat.id, message.message_id) in seen or not message.buttons():
                    continue
                seen.add((chat.id, message.message_id))
                data = message.buttons()[0].get("callback_data")
                if not data:
                    continue
                for person in self.members.get(chat.id, []):
                    if self.rng.random() < probability:
                        try:
                            self.world.press_button(person, chat, message.message_id, data)
                            presses += 1
                        except (LookupError, ValueError):
                            break
        return presses


async def rehearse(
    settings: Settings, options: RehearsalOptions | None = None, out: TextIO = sys.stdout
) -> RehearsalResult:
    options = options or RehearsalOptions()
    rng = random.Random(options.seed)
    profile = load_profile(settings.election_profile)
    timeline = load_timeline(settings.timeline_file, profile)
    first = min(parse_relative(e.at, profile) for e in timeline.entries)
    playing, title = profile.key, f"{profile.name} {profile.region_name}"
    if options.agenda not in (None, profile.key):
        agenda = _bundled_agenda(str(options.agenda), profile)
        playing, title = agenda.name, agenda.title
        # From today: the agenda's next broadcasts (recurring ones a window ahead).
        first = min(p.scheduled_at for p in materialise(agenda, datetime.now(UTC)))
    clock = RehearsalClock(first - timedelta(minutes=3), options.speed)
    faults = [Fault("server_error", method="sendMessage", probability=options.server_error_rate)]
    config = SandboxConfig(
        limits=Limits(),
        latency=Latency.uniform(*options.latency_ms),
        faults=faults,
        seed=options.seed,
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kentongan-rehearsal-") as tmp:
        database = options.database or Path(tmp) / "rehearsal.db"
        async with BotApiServer(config) as server:
            run_settings = settings.model_copy(
                update={
                    "telegram_bot_token": _secret(server.token),
                    "telegram_base_url": server.api_url,
                    "database_url": options.database_url or f"sqlite+aiosqlite:///{database}",
                }
            )
            app = build_application(run_settings, clock=clock)
            town = _Town(server.world, rng)
            async with polling(app):
                services = app.bot_data.services
                assert services is not None
                rows = town.build(options)
                now = clock.now()
                async with services.sessions.begin() as session:
                    for row in rows:
                        session.add(
                            Group(
                                **row,
                                subscribed=True,
                                subscribed_at=now,
                                created_at=now,
                                updated_at=now,
                            )
                        )
                async with services.sessions.begin() as session:
                    # Only the agenda being played runs; the others wait (a scratch database).
                    for other in (await session.scalars(select(AgendaRow.name))).all():
                        if other != playing:
                            await pause(session, None, other, now)
                count = len(await _lines(services.sessions, playing))
                _print(out, f"kentongan · gladi {title}")
                _print(
                    out,
                    f"{len(rows)} grup RW/RT di 57 kelurahan, {count} "
                    f"siaran, server Bot API lokal {server.api_url.rsplit('/', 1)[0]}",
                )
                _print(out, "Batas Telegram aktif (30 pesan/detik, 20/menit per grup).\n")
                presses = await _drive(app, server, town, clock, options, out, profile.tz, playing)
                lines = await _lines(services.sessions, playing)
        calls = server.calls
        result = RehearsalResult(
            groups=len(rows),
            lines=lines,
            seconds=time.monotonic() - started,
            too_many_requests=sum(1 for c in calls if c.status == 429),
            server_errors=sum(1 for c in calls if c.status >= 500),
            presses=presses,
        )
    _summary(out, result, profile.tz)
    return result


def _secret(token: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(token)


async def _drive(
    app: Any,
    server: BotApiServer,
    town: _Town,
    clock: RehearsalClock,
    options: RehearsalOptions,
    out: TextIO,
    tz: Any,
    agenda: str,
) -> int:
    services = app.bot_data.services
    seen: set[tuple[int, int]] = set()
    shown: dict[int, tuple[BroadcastStatus, int]] = {}
    presses = 0
    kicked = migrated = False
    deadline = time.monotonic() + options.max_seconds
    last_progress = 0.0
    while time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        lines = await _lines(services.sessions, agenda)
        for line in lines:
            sent = line.counts.get("sent", 0)
            before = shown.get(line.id)
            if before is None or before[0] != line.status:
                if line.status is not BroadcastStatus.SCHEDULED:
                    _print(out, _line_text(line, tz))
                shown[line.id] = (line.status, sent)
            elif line.status is BroadcastStatus.RUNNING and time.monotonic() - last_progress > 1:
                _print(out, _line_text(line, tz))
                last_progress = time.monotonic()
        presses += town.press_some(seen, options.ack_probability)
        now = clock.now()
        election_day_local = now.astimezone(tz)
        # Trouble on the way, as on a real voting week.
        if (
            not migrated
            and election_day_local.hour >= 12
            and lines
            and any(line.key == "h1-persiapan" and line.status in DONE for line in lines)
        ):
            basic = next((g for g in town.groups if g.type == "group"), None)
            if basic is not None:
                server.world.migrate_to_supergroup(basic)
                _print(out, f"  ⚠ grup «{basic.title}» di-upgrade menjadi supergroup")
            migrated = True
        if not kicked and any(line.key == "h-tps-buka" for line in lines if line.status in DONE):
            victim = town.groups[len(town.groups) // 2]
            server.world.kick_bot(victim)
            _print(out, f"  ⚠ bot dikeluarkan dari grup «{victim.title}»")
            kicked = True
        if lines and all(line.status in DONE for line in lines):
            # Let the last presses and the counters settle.
            await asyncio.sleep(1.0)
            presses += town.press_some(seen, options.ack_probability)
            await asyncio.sleep(1.0)
            return presses
        running = any(line.status is BroadcastStatus.RUNNING for line in lines)
        upcoming = [line.at for line in lines if line.status is BroadcastStatus.SCHEDULED]
        if not running and upcoming and min(upcoming) - now > timedelta(minutes=2):
            clock.jump(min(upcoming) - timedelta(minutes=1))
            await rebuild_jobs(app)
    _print(out, "⚠ gladi dihentikan: batas waktu tercapai")
    return presses


def _bundled_agenda(name: str, profile: Any) -> Agenda:
    for _file, text in read_bundled(AGENDAS_DIR):
        agenda = parse_agenda(text, profile)
        if agenda.name == name:
            return agenda
    raise RehearsalError(f"agenda {name!r} is not in {AGENDAS_DIR}")


class RehearsalError(Exception):
    """The rehearsal cannot start; one line for stderr."""


async def _lines(sessions: Any, agenda: str) -> list[BroadcastLine]:
    async with sessions() as session:
        broadcasts = (
            await session.scalars(
                select(Broadcast)
                .where(Broadcast.agenda == agenda)
                .order_by(Broadcast.scheduled_at, Broadcast.id)
            )
        ).all()
        counts: dict[int, dict[str, int]] = {}
        for bid, status, n in (
            await session.execute(
                select(Delivery.broadcast_id, Delivery.status, func.count()).group_by(
                    Delivery.broadcast_id, Delivery.status
                )
            )
        ).all():
            counts.setdefault(bid, {})[
                str(status.value if hasattr(status, "value") else status)
            ] = n
        acks = dict(
            (
                await session.execute(
                    select(Delivery.broadcast_id, func.count(Acknowledgement.id))
                    .join(Acknowledgement, Acknowledgement.delivery_id == Delivery.id)
                    .group_by(Delivery.broadcast_id)
                )
            ).all()
        )
    return [
        BroadcastLine(
            id=b.id,
            key=(b.timeline_key or "").split(":", 1)[-1] or (b.message_key or "teks"),
            at=b.scheduled_at,
            status=b.status,
            reason=b.status_reason,
            counts=counts.get(b.id, {}),
            acks=int(acks.get(b.id, 0)),
        )
        for b in broadcasts
    ]


def _line_text(line: BroadcastLine, tz: Any) -> str:
    local = line.at.astimezone(tz)
    c = line.counts
    total = sum(c.values())
    sent = c.get("sent", 0)
    bar_width = 20
    filled = round(bar_width * sent / total) if total else 0
    bar = "█" * filled + "░" * (bar_width - filled)
    text = (
        f"{format_day(local.date())[:3]} {local:%d/%m %H.%M} WIB  {line.key:<18} "
        f"{bar} {sent:>4}/{total:<4} {STATUS_LABEL[line.status]}"
    )
    if c.get("failed"):
        text += f", gagal {c['failed']}"
    if c.get("skipped"):
        text += f", dilewati {c['skipped']}"
    if line.status is BroadcastStatus.SKIPPED and line.reason:
        text += f" ({line.reason})"
    return text


def _summary(out: TextIO, result: RehearsalResult, tz: Any) -> None:
    _print(out, "\nRingkasan gladi")
    _print(
        out,
        f"{'siaran':<20}{'waktu (WIB)':<14}{'status':<12}{'kirim':>6}{'gagal':>7}"
        f"{'lewat':>7}{'dibaca':>8}",
    )
    for line in result.lines:
        local = line.at.astimezone(tz)
        c = line.counts
        _print(
            out,
            f"{line.key:<20}{local:%d/%m %H.%M}   {STATUS_LABEL[line.status]:<12}"
            f"{c.get('sent', 0):>6}{c.get('failed', 0):>7}{c.get('skipped', 0):>7}{line.acks:>8}",
        )
    _print(
        out,
        f"\n{result.delivered} pesan terkirim ke {result.groups} grup dalam "
        f"{result.seconds:.0f} detik; {result.presses} tombol 'Sudah dibaca' ditekan; "
        f"{result.too_many_requests} jawaban 429 dan {result.server_errors} galat server "
        "disuntikkan/ditangani.",
    )
    _print(out, "Gladi selesai: semua siaran tuntas." if result.ok else "Gladi BELUM tuntas.")


def _print(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()
