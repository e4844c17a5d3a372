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
from scheduler.timeline import load_timeline
from scheduler.when import WhenError, parse_when

T = TypeVar("T")


def _wib(profile: ElectionProfile, when: object) -> str:
    from datetime import datetime

    assert isinstance(when, datetime)
    local = when.astimezone(profile.tz)
    return f"{format_day(local.date())[:3]} {local:%d/%m/%Y %H.%M} {profile.timezone_label}"


def _checkin_line(profile: ElectionProfile, data: dict[str, object]) -> str:
    """A check-in under its broadcast in `plan`: answers (* opens a report) and deadline."""
    from scheduler.checkin import REPORT_NEVER, ResolvedCheckIn

    checkin = ResolvedCheckIn.from_json(data)
    assert checkin is not None
    answers = " ".join(
        f"[{a.label}{'*' if a.report != REPORT_NEVER else ''}]" for a in checkin.answers
    )
    return (
        f"↳ CEK-IN {answers} · batas jawaban {_wib(profile, checkin.deadline)}"
        f" · laporan: {checkin.category} (* membuka laporan)"
    )


def plan(settings: Settings, args: argparse.Namespace) -> int:
    """Every agenda (or one, --agenda) in WIB with each broadcast's status and recipient count."""
    from bot.agenda_cli import AGENDAS_DIR
    from db.models import Agenda as AgendaRow
    from domain.agendas import AD_HOC, AD_HOC_TITLE, install_bundled, read_bundled, sync_all
    from domain.escalation import chain_text, requires_ack
    from messages.telegram_html import visible_text
    from scheduler.topics import TOPICS

    async def job(sessions: SessionFactory, profile: ElectionProfile) -> int:
        timeline = load_timeline(settings.timeline_file, profile)
        now = SystemClock().now()
        async with sessions.begin() as session:
            await install_bundled(session, read_bundled(AGENDAS_DIR), profile, now)
            await sync_all(session, profile, timeline, now)
        async with sessions() as session:
            agendas = {a.name: a for a in (await session.scalars(select(AgendaRow))).all()}
            wanted = getattr(args, "agenda", None)
            if wanted is not None and wanted not in agendas and wanted != AD_HOC:
                print(
                    f"Agenda {wanted} tidak ada. Pilihan: {', '.join(sorted(agendas))}, {AD_HOC}.",
                    file=sys.stderr,
                )
                return 1
            broadcasts = (
                await session.scalars(
                    select(Broadcast).order_by(Broadcast.scheduled_at, Broadcast.id)
                )
            ).all()
            print(f"{profile.name} · {profile.region_name} · hari-H {profile.election_day}")
            chain = visible_text(chain_text(profile, now))
            groups: dict[str, list[Broadcast]] = {}
            for b in broadcasts:
                groups.setdefault(b.agenda or AD_HOC, []).append(b)
            order = [profile.key, *sorted(n for n in agendas if n != profile.key), AD_HOC]
            for name in order:
                if wanted is not None and name != wanted:
                    continue
                row = agendas.get(name)
                title = row.title if row else AD_HOC_TITLE
                topic = TOPICS.get(row.topic, row.topic) if row else "-"
                state = " · DIJEDA" if row is not None and row.paused else ""
                print(f"\n== {name} · {title} · topik {topic}{state}")
                rows = groups.get(name, [])
                # Columns as wide as their longest value: a long message key must not run
                # into the audience ("masa_tenang.berlangsungall").
                key_w = max([22, *(len(b.message_key or "teks sendiri") + 2 for b in rows)])
                aud_w = max([22, *(len(b.audience) + 2 for b in rows)])
                print(
                    f"{'#':>4}  {'waktu':<25}{'pesan':<{key_w}}{'sasaran':<{aud_w}}"
                    f"{'status':<22}grup"
                )
                for b in rows:
                    recipients = await Audience.parse(b.audience).count(session, b.topic)
                    expiry = (
                        f" (s.d. {b.expires_at.astimezone(profile.tz):%d/%m %H.%M})"
                        if (b.expires_at)
                        else ""
                    )
                    print(
                        f"{b.id:>4}  {_wib(profile, b.scheduled_at):<25}"
                        f"{(b.message_key or 'teks sendiri'):<{key_w}}{b.audience:<{aud_w}}"
                        f"{STATUS_LABEL[b.status]:<22}{recipients}{expiry}"
                    )
                    if b.checkin:
                        print(f"      {_checkin_line(profile, b.checkin)}")
                    if requires_ack(b, profile):
                        print(f"      ↳ WAJIB KONFIRMASI · bila grup diam: {chain}")
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
    plan_parser = sub.add_parser("plan", help="print every agenda with status and recipients")
    plan_parser.add_argument("--agenda", metavar="NAME", help="only this agenda")
    plan_parser.set_defaults(func=plan)
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
