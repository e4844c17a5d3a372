"""Whom an escalation step reaches (domain.escalation): the groups still silent, their
registered admins, and the officials of their kelurahan or kecamatan, each told in private.

What was sent is kept on the step's rows (`escalation_steps.notified`), for /belum's summary.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.models import Broadcast, EscalationStep, Group, Kelurahan, Official
from domain.notices import PrivateNotifier
from domain.places import area_label, scope_name
from election.profile import ElectionProfile
from messages.context import format_day
from messages.render import Safe, render
from scheduler.audience import Audience


@dataclass(frozen=True)
class SilentGroup:
    id: int
    title: str
    rw: int | None
    rt: int | None
    kelurahan_code: str | None
    kelurahan: str
    kecamatan_code: str | None
    admin_id: int | None

    @property
    def label(self) -> str:
        where = f"{area_label(self.rw, self.rt)} · " if self.rw is not None else ""
        return where + self.title


async def silent_groups(session: AsyncSession, broadcast_id: int, step: int) -> list[SilentGroup]:
    """Groups that got the broadcast, have acknowledged neither it nor a reminder, and have not
    had this step yet."""
    already = select(EscalationStep.group_id).where(
        EscalationStep.broadcast_id == broadcast_id, EscalationStep.step == step
    )
    rows = await session.execute(
        Audience(unacked_of=broadcast_id)
        .groups_query()
        .with_only_columns(
            Group.id,
            Group.title,
            Group.rw,
            Group.rt,
            Group.kelurahan_code,
            Kelurahan.name,
            Kelurahan.kecamatan_code,
            Group.subscribed_by,
        )
        .outerjoin(Kelurahan, Kelurahan.code == Group.kelurahan_code)
        .where(Group.id.not_in(already))
        .order_by(Group.kelurahan_code, Group.rw, Group.rt, Group.id)
    )
    return [
        SilentGroup(
            id=gid,
            title=title,
            rw=rw,
            rt=rt,
            kelurahan_code=kel_code,
            kelurahan=kel_name or "",
            kecamatan_code=kec_code,
            admin_id=admin_id,
        )
        for gid, title, rw, rt, kel_code, kel_name, kec_code, admin_id in rows.all()
    ]


def when_sent(broadcast: Broadcast, profile: ElectionProfile) -> str:
    local = (broadcast.started_at or broadcast.scheduled_at).astimezone(profile.tz)
    return f"pada {format_day(local.date())} pukul {local:%H.%M} {profile.timezone_label}"


async def _record(sessions: SessionFactory, rows: list[EscalationStep]) -> None:
    async with sessions.begin() as session:
        for row in rows:
            stored = await session.get(EscalationStep, row.id)
            if stored is not None:
                stored.notified = row.notified


async def tell_admins(
    sessions: SessionFactory,
    notifier: PrivateNotifier,
    profile: ElectionProfile,
    now: datetime,
    silent: list[SilentGroup],
    rows: list[EscalationStep],
    title: str,
    sent_at: str,
) -> None:
    by_group = {r.group_id: r for r in rows}
    for group in silent:
        if group.admin_id is None:
            continue
        text = render(
            "sistem.eskalasi.admin",
            profile,
            now,
            {"grup": group.label, "siaran": title, "waktu": sent_at},
        )
        if await notifier.tell(group.admin_id, text):
            by_group[group.id].notified = 1
    await _record(sessions, rows)


async def tell_officials(
    sessions: SessionFactory,
    notifier: PrivateNotifier,
    profile: ElectionProfile,
    now: datetime,
    level: str,
    broadcast_id: int,
    silent: list[SilentGroup],
    rows: list[EscalationStep],
    title: str,
) -> list[int]:
    """One list per official of each area with silent groups; the ids of those reached."""
    areas: dict[str, list[SilentGroup]] = {}
    for group in silent:
        code = group.kelurahan_code if level == "lurah" else group.kecamatan_code
        if code is not None:
            areas.setdefault(code, []).append(group)
    by_group = {r.group_id: r for r in rows}
    reached: list[int] = []
    async with sessions() as session:
        plans = []
        for code, groups in areas.items():
            if level == "lurah":
                who = Official.kelurahan_code == code
            else:
                who = (Official.kecamatan_code == code) & Official.kelurahan_code.is_(None)
            name = await scope_name(session, code)
            officials = (
                await session.scalars(
                    select(Official.user_id).where(Official.active.is_(True), who)
                )
            ).all()
            plans.append((name, groups, list(officials)))
    for name, groups, officials in plans:
        listing = "\n".join(
            f"• {html.escape(g.label)}"
            + (f" ({html.escape(g.kelurahan)})" if level == "camat" else "")
            for g in groups
        )
        text = render(
            "sistem.eskalasi.petugas",
            profile,
            now,
            {
                "wilayah": name,
                "siaran": title,
                "n": len(groups),
                "daftar": Safe(listing),
                "broadcast_id": broadcast_id,
            },
        )
        for user_id in officials:
            if await notifier.tell(user_id, text):
                reached.append(user_id)
                for g in groups:
                    by_group[g.id].notified += 1
    await _record(sessions, rows)
    return reached
