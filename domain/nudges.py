"""Follow-up nudges: the same reminder again, only to the groups that have not acknowledged it.

A nudge is a Broadcast of its own (source FOLLOW_UP, parent = the original) whose audience
`unacked:<id>` the engine resolves when it sends, so a group that acknowledges in between is
left alone. Sending one is an official action: admins only, within their kecamatan, audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Broadcast, BroadcastSource, BroadcastStatus
from domain.audit import audit
from domain.officials import Actor, PermissionDenied
from domain.reports import BroadcastInfo, broadcast_title, follow_ups
from election.profile import ElectionProfile
from messages.context import format_day
from messages.render import Safe, render
from messages.telegram_html import escape, telegram_length
from scheduler.audience import Audience

MESSAGE_KEY = "sistem.pengingat_konfirmasi"
# Below Telegram's 4096, leaving room for what the quoted text's entities may add.
MAX_LENGTH = 4000


class NudgeRefused(Exception):
    """Why no nudge goes out, in Bahasa Indonesia, with what to do instead."""


class NudgeAlreadySent(NudgeRefused):
    """A nudge went out before: the official must confirm a second one."""

    def __init__(self, message: str, previous: list[BroadcastInfo], recipients: int) -> None:
        super().__init__(message)
        self.previous = previous
        self.recipients = recipients


@dataclass(frozen=True)
class NudgePlan:
    parent_id: int
    audience: Audience
    recipients: int
    previous: list[BroadcastInfo]


async def plan_nudge(
    session: AsyncSession, actor: Actor, broadcast_id: int, now: datetime
) -> NudgePlan:
    """Who a nudge would reach now; NudgeRefused/PermissionDenied say why it can't go."""
    if not actor.is_admin:
        raise PermissionDenied(
            "Hanya admin yang dapat mengirim pengingat. Operator dapat melihat laporan dan "
            "daftar grup yang belum konfirmasi; minta admin menekan tombol pengingat."
        )
    parent = await session.get(Broadcast, broadcast_id)
    if parent is None:
        raise NudgeRefused(f"Siaran #{broadcast_id} tidak ditemukan.")
    if parent.source is BroadcastSource.FOLLOW_UP and parent.parent_id is not None:
        raise NudgeRefused(
            f"Siaran #{parent.id} sendiri sebuah pengingat. Kirim pengingat dari siaran "
            f"asalnya: /belum {parent.parent_id}"
        )
    if parent.status is BroadcastStatus.RUNNING:
        raise NudgeRefused(
            f"Siaran #{parent.id} masih dikirim. Tunggu sampai selesai, lalu coba lagi."
        )
    if parent.status is not BroadcastStatus.DONE:
        raise NudgeRefused(f"Siaran #{parent.id} belum terkirim, jadi belum ada yang diingatkan.")
    if parent.expires_at is not None and now >= parent.expires_at:
        raise NudgeRefused(
            f"Siaran #{parent.id} sudah tidak berlaku lagi, jadi pengingatnya tidak dikirim."
        )
    previous = await follow_ups(session, parent.id)
    if any(p.status in (BroadcastStatus.SCHEDULED, BroadcastStatus.RUNNING) for p in previous):
        raise NudgeRefused("Pengingat sebelumnya masih dikirim. Tunggu sampai selesai.")
    audience = Audience.of_scope(actor.scope, unacked_of=parent.id)
    recipients = await audience.count(session)
    return NudgePlan(parent.id, audience, recipients, previous)


def nudge_text(parent: Broadcast, profile: ElectionProfile) -> str:
    """The library's reminder, quoting the original text (or only its title when too long)."""
    sent = parent.started_at or parent.scheduled_at
    local = sent.astimezone(profile.tz)
    when = f"pada {format_day(local.date())} pukul {local:%H.%M} {profile.timezone_label}"
    text = render(
        MESSAGE_KEY, profile, sent, extra={"waktu": when, "kutipan": Safe(parent.text or "")}
    )
    if not parent.text or telegram_length(text) > MAX_LENGTH:
        title = Safe(f"<i>{escape(broadcast_title(parent, limit=200))}</i>")
        text = render(MESSAGE_KEY, profile, sent, extra={"waktu": when, "kutipan": title})
    return text


async def create_nudge(
    session: AsyncSession,
    actor: Actor,
    broadcast_id: int,
    profile: ElectionProfile,
    now: datetime,
    *,
    again: bool = False,
) -> tuple[Broadcast, int]:
    """Store a scheduled follow-up for the groups that have not acknowledged; and how many.

    Once per broadcast: a second nudge raises NudgeAlreadySent unless `again` confirms it.
    """
    plan = await plan_nudge(session, actor, broadcast_id, now)
    if plan.previous and not again:
        last = plan.previous[-1]
        at = (last.started_at or last.scheduled_at).astimezone(profile.tz)
        raise NudgeAlreadySent(
            f"Pengingat untuk siaran #{plan.parent_id} sudah dikirim pukul {at:%H.%M} "
            f"{profile.timezone_label}. Masih {plan.recipients} grup belum konfirmasi.",
            plan.previous,
            plan.recipients,
        )
    if plan.recipients == 0:
        raise NudgeRefused(
            f"Semua grup yang menerima siaran #{plan.parent_id} sudah konfirmasi. "
            "Tidak ada yang perlu diingatkan."
        )
    parent = await session.get(Broadcast, plan.parent_id)
    assert parent is not None
    nudge = Broadcast(
        source=BroadcastSource.FOLLOW_UP,
        parent_id=parent.id,
        message_key=MESSAGE_KEY,
        text=nudge_text(parent, profile),
        audience=plan.audience.spec(),
        scheduled_at=now,
        expires_at=parent.expires_at,
        priority=parent.priority,
        status=BroadcastStatus.SCHEDULED,
        created_by=actor.user_id,
        approved_by=actor.user_id,
        created_at=now,
    )
    session.add(nudge)
    await session.flush()
    audit(
        session,
        now,
        actor.user_id,
        "broadcast.follow_up",
        f"broadcast:{parent.id}",
        follow_up=nudge.id,
        audience=nudge.audience,
        recipients=plan.recipients,
        again=bool(plan.previous),
    )
    return nudge, plan.recipients
