"""Officials' broadcasts: draft, preview, approve, cancel. Plain data in, rows out.

The schedule (list, pages) is domain.broadcast_schedule, its names importable from here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Broadcast, BroadcastSource, BroadcastStatus
from domain.audit import audit
from domain.broadcast_schedule import BroadcastLine as BroadcastLine
from domain.broadcast_schedule import BroadcastPage as BroadcastPage
from domain.broadcast_schedule import broadcast_page as broadcast_page
from domain.broadcast_schedule import list_broadcasts as list_broadcasts
from domain.errors import library_text
from domain.officials import (
    DEFAULT_APPROVER_MIN_AGE,
    Actor,
    PermissionDenied,
    fresh_actor,
    old_enough,
)
from election.profile import ElectionProfile
from messages.neutrality import ApprovalFindings, approval_findings, explain, guard_for
from messages.quiet_period import check_text_at
from messages.render import render
from messages.telegram_html import telegram_length, validate_html
from scheduler.audience import Audience, AudienceError

STATUS_LABEL = {
    BroadcastStatus.DRAFT: "draf",
    BroadcastStatus.AWAITING_APPROVAL: "menunggu persetujuan",
    BroadcastStatus.SCHEDULED: "terjadwal",
    BroadcastStatus.RUNNING: "sedang dikirim",
    BroadcastStatus.DONE: "selesai",
    BroadcastStatus.CANCELLED: "dibatalkan",
    BroadcastStatus.SKIPPED: "dilewati",
}

# A one-off broadcast stays useful for a day unless it says otherwise.
DEFAULT_VALIDITY = timedelta(hours=24)


class DraftRefused(Exception):
    """Why a draft cannot go out, in Bahasa Indonesia, with what to do instead."""


@dataclass(frozen=True)
class Draft:
    audience: str
    scheduled_at: datetime
    message_key: str | None = None
    text: str | None = None  # custom Telegram HTML, already escaped
    expires_at: datetime | None = None
    # Groups must acknowledge it: the profile's escalation chain follows their silence
    # (Broadcast.ack_chain, as /eskalasi sets it on one broadcast).
    ack: bool = False


@dataclass(frozen=True)
class Preview:
    html: str
    recipients: int
    audience_label: str
    needs_approval: bool
    approval_reason: str


def _audience_for(actor: Actor, spec: str) -> Audience:
    try:
        audience = Audience.parse(spec)
    except AudienceError:
        raise DraftRefused("Sasaran siaran tidak dikenali.") from None
    if not actor.citywide and not audience.within_kecamatan(actor.scope or ""):
        raise PermissionDenied("Anda hanya dapat mengirim siaran ke grup di wilayah Anda sendiri.")
    return audience


def needs_approval(actor: Actor, draft: Draft, profile: ElectionProfile) -> tuple[bool, str]:
    """A second official must approve custom text always, and everything during masa tenang."""
    if not actor.is_admin:
        return True, "operator hanya dapat menyusun draf"
    if draft.text is not None:
        return True, "teks sendiri selalu perlu persetujuan petugas kedua"
    if profile.in_masa_tenang(draft.scheduled_at):
        return True, "selama masa tenang setiap siaran perlu persetujuan petugas kedua"
    return False, ""


def check_custom_text(
    text: str, profile: ElectionProfile | None = None, at: datetime | None = None
) -> None:
    """Refuse custom text that is not neutral (the profile's terms and link allowlist) or that
    Telegram would refuse; sent ``at`` a time inside the profile's masa tenang, also text the
    stricter masa tenang rules refuse (messages.quiet_period)."""
    if not text.strip():
        raise DraftRefused("Teks siaran kosong. Tulis pesannya terlebih dahulu.")
    if telegram_length(text) > 4000:  # first: the guard never reads a megabyte
        raise DraftRefused(
            f"Teks terlalu panjang ({telegram_length(text)} karakter). "
            "Batasnya sekitar 4000 karakter; persingkat lalu kirim lagi."
        )
    quiet = profile is not None and at is not None and profile.in_masa_tenang(at)
    findings = check_text_at(text, guard_for(profile), in_masa_tenang=quiet)
    if findings:
        advice = "siaran_ulangi.masa_tenang_saran" if quiet else "siaran_ulangi.ubah_teks"
        raise DraftRefused(explain(findings) + "\n" + library_text(advice))
    problems = validate_html(text)
    if problems:
        raise DraftRefused("Format teks tidak valid: " + "; ".join(problems))


async def preview(
    session: AsyncSession, actor: Actor, draft: Draft, profile: ElectionProfile, now: datetime
) -> Preview:
    """Exactly what will be sent and to how many groups, before anything is stored."""
    audience = _audience_for(actor, draft.audience)
    try:
        await audience.validate(session)
    except AudienceError:
        # The audience error is English and internal; an official reads what to do instead.
        raise DraftRefused(
            "Sasaran siaran itu tidak ada di peta Kota Malang. Pilih sasarannya lagi lewat /siaran."
        ) from None
    if draft.text is not None:
        check_custom_text(draft.text, profile, draft.scheduled_at)
        html = draft.text
    elif draft.message_key is not None:
        html = render(draft.message_key, profile, draft.scheduled_at)
    else:
        raise DraftRefused("Pilih pesan dari pustaka atau tulis teks sendiri.")
    approval, reason = needs_approval(actor, draft, profile)
    return Preview(
        html=html,
        recipients=await audience.count(session),
        audience_label=await audience.describe(session),
        needs_approval=approval,
        approval_reason=reason,
    )


async def submit(
    session: AsyncSession, actor: Actor, draft: Draft, profile: ElectionProfile, now: datetime
) -> Broadcast:
    """Store a confirmed draft: scheduled, or waiting for a second official's approval."""
    if draft.ack and not profile.acknowledgement.chain:
        raise DraftRefused(library_text("ui.siaran_eskalasi.tanpa_rantai"))
    shown = await preview(session, actor, draft, profile, now)
    broadcast = Broadcast(
        source=BroadcastSource.CUSTOM if draft.text is not None else BroadcastSource.LIBRARY,
        message_key=draft.message_key,
        text=draft.text,
        audience=Audience.parse(draft.audience).spec(),
        scheduled_at=draft.scheduled_at,
        expires_at=draft.expires_at or draft.scheduled_at + DEFAULT_VALIDITY,
        # Officials' own broadcasts go ahead of routine timeline reminders.
        priority=5,
        status=(
            BroadcastStatus.AWAITING_APPROVAL if shown.needs_approval else BroadcastStatus.SCHEDULED
        ),
        status_reason=shown.approval_reason or None,
        created_by=actor.user_id,
        approved_by=None if shown.needs_approval else actor.user_id,
        created_at=now,
        ack_chain=draft.ack,
    )
    session.add(broadcast)
    await session.flush()
    audit(
        session,
        now,
        actor.user_id,
        "broadcast.create",
        f"broadcast:{broadcast.id}",
        audience=broadcast.audience,
        status=broadcast.status.value,
        recipients=shown.recipients,
        ack_chain=draft.ack,
    )
    return broadcast


def approver_min_age(profile: ElectionProfile | None) -> timedelta:
    """How long an official must have been one before approving someone else's custom text:
    the profile's ``[neutrality] approver_min_age_hours`` (24 h by default)."""
    if profile is None:
        return DEFAULT_APPROVER_MIN_AGE
    return timedelta(hours=profile.neutrality.approver_min_age_hours)


def check_approver(
    actor: Actor, broadcast: Broadcast, now: datetime, profile: ElectionProfile | None = None
) -> None:
    """Refuse unless ``actor`` (fresh from the database) is a different person in the sense the
    system can check: not the creator; not proposed as approver by the creator; an approver
    since before the broadcast was created; and for custom text also not added by the creator
    and an official for at least the profile's minimum age. Root admins (ADMIN_IDS) are exempt
    from the two time rules only: configuration vouches for them."""
    if not actor.is_admin:
        raise PermissionDenied("Hanya admin yang dapat menyetujui siaran.")
    creator = broadcast.created_by
    if creator == actor.user_id:
        raise PermissionDenied.of("otoritas.siaran.pembuat_sendiri")
    if creator is not None and creator == actor.approver_proposed_by:
        raise PermissionDenied.of("otoritas.siaran.penyetuju_ditambah_pembuat")
    if (
        not actor.root
        and actor.approver_since is not None
        and broadcast.created_at < actor.approver_since
    ):
        raise PermissionDenied.of(
            "otoritas.siaran.dibuat_sebelum_penyetuju", broadcast_id=broadcast.id
        )
    if broadcast.text is None:
        return
    if creator is not None and creator == actor.added_by:
        raise PermissionDenied.of("otoritas.siaran.penyetuju_ditambah_pembuat")
    age = approver_min_age(profile)
    if not actor.root and not old_enough(actor, now, age):
        raise PermissionDenied.of(
            "otoritas.siaran.penyetuju_baru", hours=int(age.total_seconds() // 3600)
        )


async def _approvable(
    session: AsyncSession,
    actor: Actor,
    broadcast: Broadcast,
    now: datetime,
    profile: ElectionProfile | None,
) -> Actor:
    """The approver as the database has them now, once they may approve this broadcast (still
    waiting, not expired, inside their area); else PermissionDenied or DraftRefused."""
    current = await fresh_actor(session, actor)
    check_approver(current, broadcast, now, profile)
    _audience_for(current, broadcast.audience)
    if broadcast.status is not BroadcastStatus.AWAITING_APPROVAL:
        raise DraftRefused(f"Siaran #{broadcast.id} tidak sedang menunggu persetujuan.")
    if broadcast.expires_at is not None and now >= broadcast.expires_at:
        raise DraftRefused(f"Siaran #{broadcast.id} sudah kedaluwarsa; buat siaran baru.")
    return current


async def approve(
    session: AsyncSession,
    actor: Actor,
    broadcast_id: int,
    now: datetime,
    *,
    profile: ElectionProfile | None = None,
) -> Broadcast:
    """A second official approves a waiting broadcast (see ``check_approver`` for who may);
    ``profile`` gives the approver's minimum age and the guard's terms and links."""
    broadcast = await _get(session, broadcast_id)
    if not actor.is_admin:
        raise PermissionDenied("Hanya admin yang dapat menyetujui siaran.")
    actor = await _approvable(session, actor, broadcast, now, profile)
    scheduled_at = max(broadcast.scheduled_at, now)
    if broadcast.text is not None:  # the rules may have grown since drafting
        check_custom_text(broadcast.text, profile, scheduled_at)
    broadcast.status = BroadcastStatus.SCHEDULED
    broadcast.status_reason = None
    broadcast.approved_by = actor.user_id
    broadcast.scheduled_at = scheduled_at
    audit(session, now, actor.user_id, "broadcast.approve", f"broadcast:{broadcast.id}")
    return broadcast


async def cancel(
    session: AsyncSession, actor: Actor, broadcast_id: int, now: datetime
) -> Broadcast:
    """Cancel a broadcast; a running one stops within one claim batch (the rest are skipped)."""
    broadcast = await _get(session, broadcast_id)
    if not actor.is_admin and broadcast.created_by != actor.user_id:
        raise PermissionDenied("Operator hanya dapat membatalkan draf buatannya sendiri.")
    _audience_for(actor, broadcast.audience)
    if broadcast.status in (
        BroadcastStatus.DONE,
        BroadcastStatus.SKIPPED,
        BroadcastStatus.CANCELLED,
    ):
        raise DraftRefused(f"Siaran #{broadcast.id} sudah {STATUS_LABEL[broadcast.status]}.")
    broadcast.status = BroadcastStatus.CANCELLED
    broadcast.status_reason = f"dibatalkan oleh {actor.user_id}"
    broadcast.finished_at = now
    audit(session, now, actor.user_id, "broadcast.cancel", f"broadcast:{broadcast.id}")
    return broadcast


async def _get(session: AsyncSession, broadcast_id: int) -> Broadcast:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise DraftRefused(
            f"Siaran #{broadcast_id} tidak ditemukan. Lihat daftarnya dengan /jadwal."
        )
    return broadcast


@dataclass(frozen=True)
class ApprovalScreen:
    """What an approver sees before deciding: the exact text that will be sent, the guard's
    findings and highlights (names, numbers, symbols, links), the reminder that allusions are
    the approver's own check, and — when this approver may not approve — why."""

    broadcast_id: int
    html: str
    audience_label: str
    recipients: int
    findings: ApprovalFindings
    note: str
    refusal: str | None
    created_by: int | None = None
    scheduled_at: datetime | None = None
    ack_chain: bool = False  # groups must acknowledge it (the profile's escalation chain)


async def approval_screen(
    session: AsyncSession,
    actor: Actor,
    broadcast_id: int,
    profile: ElectionProfile,
    now: datetime,
) -> ApprovalScreen:
    broadcast = await _get(session, broadcast_id)
    if broadcast.text is not None:
        html = broadcast.text
    elif broadcast.message_key is not None:
        html = render(broadcast.message_key, profile, broadcast.scheduled_at)
    else:
        html = ""
    refusal: str | None = None
    try:
        # What approve() would refuse anyway: say it before the screen, not after the press.
        await _approvable(session, actor, broadcast, now, profile)
    except (PermissionDenied, DraftRefused) as exc:
        refusal = str(exc)
    audience = Audience.parse(broadcast.audience)
    return ApprovalScreen(
        broadcast_id=broadcast.id,
        html=html,
        audience_label=await audience.describe(session),
        recipients=await audience.count(session, broadcast.topic),
        findings=approval_findings(html, guard_for(profile)),
        note=library_text("otoritas.siaran.temuan_persetujuan"),
        refusal=refusal,
        created_by=broadcast.created_by,
        scheduled_at=broadcast.scheduled_at,
        ack_chain=broadcast.ack_chain,
    )
