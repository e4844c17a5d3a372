"""`python -m bot agenda list|add FILE|pause NAME|resume NAME`: officials' agendas from the shell.

`add` validates the whole file first (every problem with its line, in Bahasa Indonesia) and
loads nothing when one is wrong. The running bot picks changes up from the database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from bot.settings import Settings, SettingsError, load_settings
from bot.storage import open_storage
from db.engine import SessionFactory
from domain.agendas import (
    AgendaNotFound,
    add_agenda,
    install_bundled,
    overview,
    pause,
    read_bundled,
    resume,
    sync_all,
)
from domain.officials import PermissionDenied
from election.profile import ElectionProfile, load_profile
from election.resources import shipped_agendas
from messages.context import format_day
from scheduler.agenda_file import AgendaRejected
from scheduler.clock import SystemClock
from scheduler.timeline import Timeline, load_timeline
from scheduler.topics import TOPICS

AGENDAS_DIR = shipped_agendas()

T = TypeVar("T")


def _run(
    settings: Settings,
    job: Callable[[SessionFactory, ElectionProfile, Timeline], Awaitable[T]],
) -> T:
    async def go() -> T:
        engine, sessions = await open_storage(
            settings.database_url, settings.admin_ids, SystemClock().now()
        )
        try:
            profile = load_profile(settings.election_profile)
            timeline = load_timeline(settings.timeline_file, profile)
            async with sessions.begin() as session:
                await install_bundled(session, read_bundled(AGENDAS_DIR), profile, now())
            return await job(sessions, profile, timeline)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def now() -> datetime:
    return SystemClock().now()


def _wib(profile: ElectionProfile, when: object) -> str:
    assert isinstance(when, datetime)
    local = when.astimezone(profile.tz)
    return f"{format_day(local.date())[:3]} {local:%d/%m/%Y %H.%M} {profile.timezone_label}"


def _list(settings: Settings, _args: argparse.Namespace) -> int:
    async def job(sessions: SessionFactory, profile: ElectionProfile, timeline: Timeline) -> int:
        async with sessions.begin() as session:
            await sync_all(session, profile, timeline, now())
        async with sessions() as session:
            lines = await overview(session, None, now())
        for line in lines:
            state = "DIJEDA" if line.paused else "berjalan"
            topic = TOPICS.get(line.topic, line.topic)
            print(f"{line.name} · {line.title} · topik {topic} · {state}")
            if not line.next_steps:
                print("    (tidak ada langkah yang menunggu)")
            for step in line.next_steps:
                print(
                    f"    #{step.broadcast_id} {_wib(profile, step.scheduled_at)} {step.title} "
                    f"→ {step.audience} ({step.recipients} grup)"
                )
        return 0

    return _run(settings, job)


def _add(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"Berkas {path} tidak ada.", file=sys.stderr)
        return 1
    text = path.read_text(encoding="utf-8")

    async def job(sessions: SessionFactory, profile: ElectionProfile, timeline: Timeline) -> int:
        try:
            async with sessions.begin() as session:
                agenda, created = await add_agenda(session, None, text, profile, timeline, now())
        except AgendaRejected as exc:
            print(f"Agenda {path.name} tidak dimuat; tidak ada yang berubah:", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        verb = "dimuat" if created else "diperbarui"
        print(f"Agenda {agenda.name} {verb}: {len(agenda.steps)} langkah, topik {agenda.topic}.")
        return 0

    return _run(settings, job)


def _pause_resume(settings: Settings, args: argparse.Namespace) -> int:
    async def job(sessions: SessionFactory, profile: ElectionProfile, timeline: Timeline) -> int:
        async with sessions.begin() as session:
            if args.action == "pause":
                count = await pause(session, None, args.name, now())
                print(f"Agenda {args.name} dijeda; {count} siaran yang menunggu ditahan.")
            else:
                count = await resume(session, None, args.name, profile, timeline, now())
                print(f"Agenda {args.name} berjalan lagi; {count} siaran kembali terjadwal.")
        return 0

    return _run(settings, job)


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "list": _list,
    "add": _add,
    "pause": _pause_resume,
    "resume": _pause_resume,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot agenda", description=__doc__.split("\n")[0]
    )
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="agendas with their next steps")
    actions.add_parser("add", help="load a new or changed agenda file").add_argument("file")
    for name in ("pause", "resume"):
        actions.add_parser(name).add_argument("name")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.action](load_settings(), args)
    except (AgendaNotFound, PermissionDenied, SettingsError) as exc:
        print(f"kentongan agenda: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
