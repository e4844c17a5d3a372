"""The rehearsal: the whole timeline against the local Bot API server, in about a minute.

Same Application, engine, jobs and database code as production; only the clock (a
RehearsalClock that skips the quiet hours) and the server (sandbox, with Telegram's limits on)
differ. Simulated RW/RT groups across all 57 kelurahan, residents pressing "Sudah dibaca", a
kicked group and a group upgraded to a supergroup on the way. The city is
bot/rehearsal_town.py; the lines it prints and its summary are bot/rehearsal_report.py.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select

from bot.agenda_cli import AGENDAS_DIR
from bot.app import build_application
from bot.checkin_jobs import schedule_deadlines, send_silences
from bot.jobs import rebuild_jobs
from bot.rehearsal_field import FieldScene, SceneFailed
from bot.rehearsal_report import (
    DONE,
    RehearsalResult,
    line_text,
    print_summary,
    read_checkins,
    read_field,
    read_lines,
    say,
)
from bot.rehearsal_town import Town
from bot.runner import polling
from bot.settings import Settings
from db.models import Agenda as AgendaRow
from db.models import BroadcastStatus, Group, Official, OfficialRole
from domain.agendas import pause, read_bundled
from domain.checkin_silences import unsent_notices
from election.profile import load_profile
from sandbox import BotApiServer, Fault, Latency, Limits, SandboxConfig
from scheduler.agenda import Agenda, materialise
from scheduler.agenda_file import parse_agenda
from scheduler.clock import RehearsalClock
from scheduler.timeline import load_timeline, parse_relative


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
    # The clock starts early enough that the set-up (the bot starting, the groups and the
    # posko made: seconds of real time, minutes to hours of sped-up time) ends before the first
    # broadcast; started only 3 minutes early, a slow start sent the first one to no groups.
    # The drive then jumps to a minute before it. At most 2 hours: no earlier job comes into
    # reach (the pre-flight runs the day before).
    lead = min(timedelta(hours=2), max(timedelta(minutes=3), timedelta(seconds=60 * options.speed)))
    clock = RehearsalClock(first - lead, options.speed)
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
            town = Town(server.world, rng)
            async with polling(app):
                services = app.bot_data.services
                assert services is not None
                rows = town.build(options.rt_every, options.members)
                # The field scene plays with the election's check-ins, not with other agendas.
                cast = town.field_cast() if playing == profile.key else None
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
                    for official in town.officials():
                        session.add(
                            Official(
                                **official, role=OfficialRole.OPERATOR, active=True, added_at=now
                            )
                        )
                    if cast is not None:
                        session.add(
                            Official(**cast[1], role=OfficialRole.ADMIN, active=True, added_at=now)
                        )
                async with services.sessions.begin() as session:
                    # Only the agenda being played runs; the others wait (a scratch database).
                    for other in (await session.scalars(select(AgendaRow.name))).all():
                        if other != playing:
                            await pause(session, None, other, now)
                count = len(await read_lines(services.sessions, playing))
                say(out, f"kentongan · gladi {title}")
                say(
                    out,
                    f"{len(rows)} grup RW/RT di 57 kelurahan, {count} "
                    f"siaran, server Bot API lokal {server.api_url.rsplit('/', 1)[0]}",
                )
                say(out, "Batas Telegram aktif (30 pesan/detik, 20/menit per grup).\n")
                scene = None
                if cast is not None:
                    scene = FieldScene(server, services, cast[0])
                    await scene.open_posko(out)
                presses = await _drive(
                    app, server, town, clock, options, out, profile.tz, playing, scene
                )
                lines = await read_lines(services.sessions, playing)
                checkins = await read_checkins(services.sessions, playing)
                field = await read_field(services, server.world) if scene is not None else None
        calls = server.calls
        result = RehearsalResult(
            groups=len(rows),
            lines=lines,
            seconds=time.monotonic() - started,
            too_many_requests=sum(1 for c in calls if c.status == 429),
            server_errors=sum(1 for c in calls if c.status >= 500),
            presses=presses,
            checkins=checkins,
            field=field,
        )
    print_summary(out, result, profile.tz)
    return result


def _secret(token: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(token)


async def _drive(
    app: Any,
    server: BotApiServer,
    town: Town,
    clock: RehearsalClock,
    options: RehearsalOptions,
    out: TextIO,
    tz: Any,
    agenda: str,
    scene: FieldScene | None = None,
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
        lines = await read_lines(services.sessions, agenda)
        for line in lines:
            sent = line.counts.get("sent", 0)
            before = shown.get(line.id)
            if before is None or before[0] != line.status:
                if line.status is not BroadcastStatus.SCHEDULED:
                    say(out, line_text(line, tz))
                shown[line.id] = (line.status, sent)
            elif line.status is BroadcastStatus.RUNNING and time.monotonic() - last_progress > 1:
                say(out, line_text(line, tz))
                last_progress = time.monotonic()
        presses += town.press_some(seen, options.ack_probability)
        if scene is not None and not scene.played and await scene.ready():
            # Played inline: the clock does not jump while two leaders report and the posko acts.
            try:
                await scene.play(out)
            except (SceneFailed, TimeoutError, LookupError) as exc:
                say(out, f"  ⚠ adegan lapangan gagal: {exc}")
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
                say(out, f"  ⚠ grup «{basic.title}» di-upgrade menjadi supergroup")
            migrated = True
        if not kicked and any(line.key == "h-tps-buka" for line in lines if line.status in DONE):
            victim = town.groups[len(town.groups) // 2]
            server.world.kick_bot(victim)
            say(out, f"  ⚠ bot dikeluarkan dari grup «{victim.title}»")
            kicked = True
        if lines and all(line.status in DONE for line in lines):
            # Let the last presses and the counters settle.
            await asyncio.sleep(1.0)
            presses += town.press_some(seen, options.ack_probability)
            await asyncio.sleep(1.0)
            await _flush_silences(services, app.bot)
            return presses
        running = any(line.status is BroadcastStatus.RUNNING for line in lines)
        upcoming = [line.at for line in lines if line.status is BroadcastStatus.SCHEDULED]
        if not running and upcoming and min(upcoming) - now > timedelta(minutes=2):
            clock.jump(min(upcoming) - timedelta(minutes=1))
            await rebuild_jobs(app)
            await schedule_deadlines(app)  # check-in deadlines the jump passed: due now
    say(out, "⚠ gladi dihentikan: batas waktu tercapai")
    return presses


async def _flush_silences(services: Any, bot: Any, tries: int = 5) -> None:
    """Send the no-answer lists an injected server error held back. In service the catch-up
    job retries them within five minutes; the rehearsal ends long before that."""
    for _ in range(tries):
        async with services.sessions() as session:
            if not await unsent_notices(session, services.clock.now()):
                return
        await send_silences(services, bot)
        await asyncio.sleep(0.3)


def _bundled_agenda(name: str, profile: Any) -> Agenda:
    for _file, text in read_bundled(AGENDAS_DIR):
        agenda = parse_agenda(text, profile)
        if agenda.name == name:
            return agenda
    raise RehearsalError(f"agenda {name!r} is not in {AGENDAS_DIR}")


class RehearsalError(Exception):
    """The rehearsal cannot start; one line for stderr."""
