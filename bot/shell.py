"""Shell commands for officials: `plan` and `broadcast …`, on the same domain as the bot."""

from __future__ import annotations

import argparse
import re
import sys
from typing import TypeVar

from sqlalchemy import select

from bot.notify import STATUS_LABEL
from bot.settings import Settings
from bot.storage import run_job
from db.engine import SessionFactory
from db.models import Broadcast
from domain.broadcasts import Draft, DraftRefused, approve, cancel, list_broadcasts, submit
from domain.officials import PermissionDenied, require_actor
from election.profile import ElectionProfile
from messages.context import format_day
from scheduler.audience import Audience
from scheduler.clock import SystemClock
from scheduler.timeline import load_timeline, sync_timeline
from scheduler.when import WhenError, parse_when

T = TypeVar("T")


def _wib(profile: ElectionProfile, when: object) -> str:
    from datetime import datetime

    assert isinstance(when, datetime)
    local = when.astimezone(profile.tz)
    return f"{format_day(local.date())[:3]} {local:%d/%m/%Y %H.%M} {profile.timezone_label}"


def plan(settings: Settings, _args: argparse.Namespace) -> int:
    """The timeline in WIB with each broadcast's status and recipient count."""

    async def job(sessions: SessionFactory, profile: ElectionProfile) -> int:
        timeline = load_timeline(settings.timeline_file, profile)
        async with sessions.begin() as session:
            await sync_timeline(session, timeline, profile, SystemClock().now())
        async with sessions() as session:
            broadcasts = (
                await session.scalars(
                    select(Broadcast).order_by(Broadcast.scheduled_at, Broadcast.id)
                )
            ).all()
            print(f"{profile.name} · {profile.region_name} · hari-H {profile.election_day}")
            print(f"{'#':>4}  {'waktu':<25}{'pesan':<22}{'sasaran':<22}{'status':<22}grup")
            for b in broadcasts:
                recipients = await Audience.parse(b.audience).count(session)
                expiry = (
                    f" (s.d. {b.expires_at.astimezone(profile.tz):%d/%m %H.%M})"
                    if (b.expires_at)
                    else ""
                )
                print(
                    f"{b.id:>4}  {_wib(profile, b.scheduled_at):<25}"
                    f"{(b.message_key or 'teks sendiri'):<22}{b.audience:<22}"
                    f"{STATUS_LABEL[b.status]:<22}{recipients}{expiry}"
                )
        return 0

    return run_job(settings, job)


def broadcast(settings: Settings, args: argparse.Namespace) -> int:
    """list | create | approve | cancel, as the official given with --as."""

    async def job(sessions: SessionFactory, profile: ElectionProfile) -> int:
        now = SystemClock().now()
        if args.action == "list":
            async with sessions() as session:
                for line in await list_broadcasts(session, now):
                    print(
                        f"#{line.id} {_wib(profile, line.scheduled_at)} {line.title} "
                        f"{line.audience} {STATUS_LABEL[line.status]} {line.counts}"
                    )
            return 0
        if args.as_user is None:
            print("Sebutkan petugasnya dengan --as ID_PENGGUNA.", file=sys.stderr)
            return 2
        async with sessions.begin() as session:
            actor = await require_actor(session, args.as_user)
            if args.action == "create":
                if bool(args.message) == bool(args.text):
                    print("Pilih salah satu: --message KUNCI atau --text TEKS.", file=sys.stderr)
                    return 2
                draft = Draft(
                    audience=args.audience,
                    scheduled_at=parse_when(args.at, profile, now),
                    message_key=args.message,
                    text=args.text,
                )
                created = await submit(session, actor, draft, profile, now)
                print(f"Siaran #{created.id}: {STATUS_LABEL[created.status]}")
            elif args.action == "approve":
                approved = await approve(session, actor, args.id, now)
                print(f"Siaran #{approved.id}: {STATUS_LABEL[approved.status]}")
            elif args.action == "cancel":
                cancelled = await cancel(session, actor, args.id, now)
                print(f"Siaran #{cancelled.id}: {STATUS_LABEL[cancelled.status]}")
        # The running bot picks the change up from the database within a minute.
        return 0

    try:
        return run_job(settings, job)
    except (DraftRefused, PermissionDenied, WhenError) as exc:
        # The same messages the bot sends in Telegram, without their HTML tags.
        print(re.sub(r"</?[a-z]+>", "", str(exc)), file=sys.stderr)
        return 1


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("plan", help="print the timeline with status and recipients").set_defaults(
        func=plan
    )
    p = sub.add_parser("broadcast", help="list, create, approve or cancel broadcasts")
    p.set_defaults(func=broadcast)
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("list")
    create = actions.add_parser("create")
    create.add_argument("--message", help="library message key")
    create.add_argument("--text", help="custom text (Telegram HTML)")
    create.add_argument("--audience", default="all")
    create.add_argument("--at", default="sekarang", help='"sekarang", "26/11 19.00", "H-1 19.00"')
    create.add_argument("--as", dest="as_user", type=int)
    for name in ("approve", "cancel"):
        a = actions.add_parser(name)
        a.add_argument("id", type=int)
        a.add_argument("--as", dest="as_user", type=int)
