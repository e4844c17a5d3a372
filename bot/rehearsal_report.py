"""What the rehearsal shows: a line per broadcast as it goes, and the summary at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import func, select

from db.models import (
    Acknowledgement,
    Broadcast,
    BroadcastStatus,
    CaseStatus,
    CheckInFollowUp,
    CheckInSilence,
    CheckInSilenceNotice,
    Delivery,
    FieldCase,
    FieldReport,
)
from domain.broadcasts import STATUS_LABEL
from domain.checkin_counts import checkin_broadcasts, checkin_totals
from domain.field.board import board_text, field_board
from domain.reports import scope_name
from messages.context import format_day
from messages.telegram_html import visible_text

# What a reporter hears of a change to their case (bot.field_posting.tell_reporters).
TOLD_KEYS = ("ui.lapor.kabar.ditangani", "ui.lapor.kabar.tuntas", "ui.lapor.kabar.dirujuk")

DONE = (BroadcastStatus.DONE, BroadcastStatus.SKIPPED, BroadcastStatus.CANCELLED)


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
class FieldSummary:
    """The field reports and the posko as the database has them at the end (and what the
    server delivered to the reporters' chats), with the /lapangan board's text."""

    reports: int
    from_lapor: int
    from_checkins: int
    with_photo: int
    lapor_cases: int  # distinct cases the /lapor reports are in
    cases: int
    grouped: int  # cases holding more than one report
    handled: int  # taken by an official (still ditangani, or selesai)
    done: int
    referred: int
    told: int  # news of a change delivered to a reporter's chat
    board: list[str] = field(default_factory=list)


@dataclass
class RehearsalResult:
    groups: int
    lines: list[BroadcastLine]
    seconds: float
    too_many_requests: int
    server_errors: int
    presses: int
    # One line per check-in: the leaders' answers, the silent groups, reports opened.
    checkins: list[str] = field(default_factory=list)
    field: FieldSummary | None = None

    @property
    def delivered(self) -> int:
        return sum(line.counts.get("sent", 0) for line in self.lines)

    @property
    def ok(self) -> bool:
        return all(line.status in DONE for line in self.lines)


async def read_checkins(sessions: Any, agenda: str) -> list[str]:
    """Each check-in of the agenda summed up for the closing summary."""
    lines: list[str] = []
    async with sessions() as session:
        for broadcast in await checkin_broadcasts(session):
            if broadcast.agenda != agenda:
                continue
            totals = await checkin_totals(session, broadcast.id)
            if totals is None:
                continue
            reports = await session.scalar(
                select(func.count())
                .select_from(CheckInFollowUp)
                .where(CheckInFollowUp.broadcast_id == broadcast.id)
            )
            described = await session.scalar(
                select(func.count())
                .select_from(CheckInFollowUp)
                .where(
                    CheckInFollowUp.broadcast_id == broadcast.id,
                    CheckInFollowUp.description.is_not(None),
                )
            )
            silence = await session.get(CheckInSilence, broadcast.id)
            delivered = await session.scalar(
                select(func.count())
                .select_from(CheckInSilenceNotice)
                .where(
                    CheckInSilenceNotice.broadcast_id == broadcast.id,
                    CheckInSilenceNotice.sent_at.is_not(None),
                )
            )
            answers = ", ".join(f"{label} {n}" for label, n in totals.answers)
            listed = (
                f"; daftar tanpa jawaban ke {silence.recipients} petugas "
                f"(terkirim {delivered or 0})"
                if silence is not None
                else "; batas jawaban belum lewat"
            )
            key = (broadcast.timeline_key or str(broadcast.id)).split(":")[-1]
            lines.append(
                f"{key:<20}{answers}; tanpa jawaban {totals.unanswered}; "
                f"laporan {reports or 0} ({described or 0} berisi uraian){listed}"
            )
    return lines


async def read_field(services: Any, world: Any) -> FieldSummary:
    """The closing summary's field numbers, counted in the database, and the board built by the
    same domain code as /lapangan (city-wide)."""
    from bot.rehearsal_field import told_pattern

    now = services.clock.now()
    async with services.sessions() as session:
        reports = (await session.scalars(select(FieldReport))).all()
        statuses = (await session.execute(select(FieldCase.status, FieldCase.report_count))).all()
        board = await field_board(session, None, now)
        scope = await scope_name(session, None)
    patterns = [told_pattern(services, key) for key in TOLD_KEYS]
    told = 0
    for chat_id in {r.source_chat_id for r in reports if r.source_chat_id is not None}:
        chat = world.find_chat(chat_id)
        if chat is not None:
            told += sum(
                1 for m in world.bot_messages(chat) if any(p.match(m.text or "") for p in patterns)
            )
    return FieldSummary(
        reports=len(reports),
        from_lapor=sum(1 for r in reports if r.source == "lapor"),
        from_checkins=sum(1 for r in reports if r.source.startswith("checkin:")),
        with_photo=sum(1 for r in reports if r.photos),
        lapor_cases=len({r.case_id for r in reports if r.source == "lapor"}),
        cases=len(statuses),
        grouped=sum(1 for _, count in statuses if count > 1),
        handled=sum(1 for s, _ in statuses if s in (CaseStatus.HANDLING, CaseStatus.DONE)),
        done=sum(1 for s, _ in statuses if s is CaseStatus.DONE),
        referred=sum(1 for s, _ in statuses if s is CaseStatus.REFERRED),
        told=told,
        board=visible_text(board_text(board, services.profile, scope)).splitlines(),
    )


async def read_lines(sessions: Any, agenda: str) -> list[BroadcastLine]:
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


def line_text(line: BroadcastLine, tz: Any) -> str:
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


def print_summary(out: TextIO, result: RehearsalResult, tz: Any) -> None:
    say(out, "\nRingkasan gladi")
    say(
        out,
        f"{'siaran':<20}{'waktu (WIB)':<14}{'status':<12}{'kirim':>6}{'gagal':>7}"
        f"{'lewat':>7}{'dibaca':>8}",
    )
    for line in result.lines:
        local = line.at.astimezone(tz)
        c = line.counts
        say(
            out,
            f"{line.key:<20}{local:%d/%m %H.%M}   {STATUS_LABEL[line.status]:<12}"
            f"{c.get('sent', 0):>6}{c.get('failed', 0):>7}{c.get('skipped', 0):>7}{line.acks:>8}",
        )
    say(
        out,
        f"\n{result.delivered} pesan terkirim ke {result.groups} grup dalam "
        f"{result.seconds:.0f} detik; {result.presses} tombol 'Sudah dibaca' ditekan; "
        f"{result.too_many_requests} jawaban 429 dan {result.server_errors} galat server "
        "disuntikkan/ditangani.",
    )
    if result.checkins:
        say(out, "\nCek-in (jawaban ketua RT/RW)")
        for checkin in result.checkins:
            say(out, checkin)
    if result.field is not None:
        f = result.field
        say(out, "\nLaporan lapangan dan posko (dari basis data)")
        say(
            out,
            f"laporan {f.reports} ({f.from_lapor} lewat /lapor, {f.with_photo} berfoto; "
            f"{f.from_checkins} dari cek-in); kasus {f.cases}, {f.grouped} menggabungkan "
            f"beberapa laporan; ditangani {f.handled} (selesai {f.done}); dirujuk {f.referred}; "
            f"kabar ke pelapor {f.told}",
        )
        say(out, "\nPapan /lapangan")
        for board_line in f.board:
            say(out, board_line)
    say(out, "Gladi selesai: semua siaran tuntas." if result.ok else "Gladi BELUM tuntas.")


def say(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()
