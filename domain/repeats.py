"""Repeating a broadcast ("ulangi", issue 16): an earlier broadcast or an agenda step's, again.

A repeat is a new broadcast with the same content — the same library message (rendered for
its new time) or the same own text — to the same audience or a narrower one, through the same
preview and approval rules as any /siaran: own text still needs a second official, and so does
everything during masa tenang. It keeps the original's topic, so groups that switched that
topic off with /topik are still left out. The original is named in the audit log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agenda as AgendaRow
from db.models import Broadcast, BroadcastStatus
from domain.agendas import add_agenda
from domain.audit import audit
from domain.broadcasts import Draft, DraftRefused, submit
from domain.errors import library_text
from domain.officials import Actor
from election.profile import ElectionProfile
from scheduler.agenda_file import AgendaRejected
from scheduler.audience import Audience, AudienceError, addressed_within
from scheduler.recurrence import parse_every
from scheduler.timeline import Timeline

# What may be repeated: content that went out or was approved to go out. A draft, a broadcast
# still waiting for its approver or one cancelled (perhaps refused) is not content to repeat.
REPEATABLE = (
    BroadcastStatus.DONE,
    BroadcastStatus.RUNNING,
    BroadcastStatus.SKIPPED,
    BroadcastStatus.SCHEDULED,
)
SHOWN = 8  # how many recent broadcasts the /siaran screen offers


@dataclass(frozen=True)
class RepeatSource:
    """The content and reach a repeat starts from."""

    id: int
    message_key: str | None
    text: str | None
    audience: str
    topic: str | None
    agenda: str | None
    scheduled_at: datetime
    status: BroadcastStatus


def _of(b: Broadcast) -> RepeatSource:
    return RepeatSource(
        id=b.id,
        message_key=b.message_key,
        text=b.text,
        audience=b.audience,
        topic=b.topic,
        agenda=b.agenda,
        scheduled_at=b.scheduled_at,
        status=b.status,
    )


def _visible(actor: Actor, spec: str) -> bool:
    """A city-wide official sees every broadcast; one limited to a kecamatan those inside it."""
    return actor.citywide or addressed_within(spec, actor.kecamatan_code or "")


async def repeatable(
    session: AsyncSession, actor: Actor, now: datetime, *, limit: int = SHOWN
) -> list[RepeatSource]:
    """The latest broadcasts (agenda steps and officials' own alike) this official may repeat,
    newest first."""
    rows = await session.scalars(
        select(Broadcast)
        .where(Broadcast.status.in_(REPEATABLE), Broadcast.scheduled_at <= now)
        .order_by(Broadcast.scheduled_at.desc(), Broadcast.id.desc())
        .limit(500)
    )
    shown = [_of(b) for b in rows if _visible(actor, b.audience) and _has_content(b)]
    return shown[:limit]


def _has_content(b: Broadcast) -> bool:
    return b.text is not None or b.message_key is not None


async def repeat_source(session: AsyncSession, actor: Actor, broadcast_id: int) -> RepeatSource:
    """The broadcast to repeat, or DraftRefused saying why not and what to do instead."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or not _visible(actor, broadcast.audience):
        raise DraftRefused(library_text("siaran_ulangi.tidak_ditemukan", nomor=broadcast_id))
    if broadcast.status not in REPEATABLE or not _has_content(broadcast):
        raise DraftRefused(library_text("siaran_ulangi.tidak_bisa", nomor=broadcast_id))
    return _of(broadcast)


def allowed_audience(source: RepeatSource, spec: str) -> bool:
    """The same audience as the original, or a narrower one."""
    try:
        return Audience.parse(spec).narrows(Audience.parse(source.audience))
    except AudienceError:
        return False


def repeat_draft(source: RepeatSource, audience: str, scheduled_at: datetime) -> Draft:
    return Draft(
        audience=audience,
        scheduled_at=scheduled_at,
        message_key=None if source.text is not None else source.message_key,
        text=source.text,
    )


async def submit_repeat(
    session: AsyncSession,
    actor: Actor,
    broadcast_id: int,
    audience: str,
    scheduled_at: datetime,
    profile: ElectionProfile,
    now: datetime,
    *,
    ack: bool = False,
) -> Broadcast:
    """Store the repeat like any confirmed /siaran draft (guard, approval rules, audit); with
    ``ack``, groups must acknowledge it."""
    source = await repeat_source(session, actor, broadcast_id)
    if not allowed_audience(source, audience):
        raise DraftRefused(library_text("siaran_ulangi.sasaran_lebih_luas", nomor=source.id))
    draft = replace(repeat_draft(source, audience, scheduled_at), ack=ack)
    broadcast = await submit(session, actor, draft, profile, now)
    broadcast.topic = source.topic  # opt-outs of that topic still hold
    audit(
        session,
        now,
        actor.user_id,
        "broadcast.repeat",
        f"broadcast:{broadcast.id}",
        of=source.id,
        audience=broadcast.audience,
    )
    return broadcast


# -- tiap minggu / tiap bulan sampai tanggal: a repeat as an agenda of one recurring step -------

WEEKDAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
LONGEST_SERIES = timedelta(days=366)


@dataclass(frozen=True)
class Series:
    """A repeat every week or month until a date, written as an agenda file (the agenda
    machinery materialises, pauses and approves it like any other)."""

    name: str
    every: str  # "jumat 07.00", "tanggal 22 07.00"
    first: date
    until: date
    times: int
    source: str  # the agenda file (TOML)


def series_for(
    source: RepeatSource,
    audience: str,
    first_at: datetime,
    until: date,
    monthly: bool,
    profile: ElectionProfile,
    *,
    ack: bool = False,
) -> Series:
    """The agenda that repeats ``source`` from ``first_at`` (its weekday or day of the month, its
    time) up to and including ``until``; DraftRefused for a date before it or over a year on.
    With ``ack`` its step asks groups to acknowledge (``ack = true``)."""
    local = first_at.astimezone(profile.tz)
    if until < local.date():
        raise DraftRefused(library_text("siaran_ulangi.sampai_sebelum", mulai=f"{local:%d/%m/%Y}"))
    if until > local.date() + LONGEST_SERIES:
        raise DraftRefused(library_text("siaran_ulangi.sampai_terlalu_jauh"))
    at = f"{local:%H.%M}"
    every = f"tanggal {local.day} {at}" if monthly else f"{WEEKDAYS[local.weekday()]} {at}"
    recurrence = parse_every(every)
    times = sum(
        1
        for k in range((until - local.date()).days + 1)
        if recurrence.matches(local.date() + timedelta(days=k))
    )
    kind = "bulanan" if monthly else "mingguan"
    name = f"ulang-{source.id}-{kind}-{local:%Y%m%d}"
    content = (
        f"text = {json.dumps(source.text, ensure_ascii=False)}"
        if source.text is not None
        else f"message = {json.dumps(source.message_key)}"
    )
    title = library_text(
        "siaran_ulangi.judul_agenda",
        nomor=source.id,
        kala=library_text(f"siaran_ulangi.kala_{kind}"),
    )
    toml = "\n".join(
        [
            f"name = {json.dumps(name)}",
            f"title = {json.dumps(title, ensure_ascii=False)}",
            f"topic = {json.dumps(source.topic or 'umum')}",
            f"sources = [{json.dumps(f'siaran #{source.id}')}]",
            "",
            "[[step]]",
            'key = "ulang"',
            f"every = {json.dumps(every)}",
            f"from = {local.date().isoformat()}",
            f"until = {until.isoformat()}",
            f"audience = {json.dumps(audience)}",
            content,
            *(["ack = true"] if ack else []),
            "",
        ]
    )
    return Series(name, every, local.date(), until, times, toml)


async def submit_series(
    session: AsyncSession,
    actor: Actor,
    broadcast_id: int,
    audience: str,
    first_at: datetime,
    until: date,
    monthly: bool,
    profile: ElectionProfile,
    timeline: Timeline,
    now: datetime,
    *,
    ack: bool = False,
) -> tuple[Series, bool]:
    """Load the series as an agenda (city-wide admins; own text waits for a second admin in
    /agenda, as any agenda's does); True when it waits for that approval."""
    source = await repeat_source(session, actor, broadcast_id)
    if not allowed_audience(source, audience):
        raise DraftRefused(library_text("siaran_ulangi.sasaran_lebih_luas", nomor=source.id))
    series = series_for(source, audience, first_at, until, monthly, profile, ack=ack)
    try:
        await add_agenda(session, actor, series.source, profile, timeline, now)
    except AgendaRejected as exc:  # the guard (and masa tenang's rules) on the agenda's text
        raise DraftRefused("\n".join(p.reason for p in exc.problems)) from None
    row = await session.get(AgendaRow, series.name)
    audit(
        session,
        now,
        actor.user_id,
        "broadcast.repeat_series",
        f"agenda:{series.name}",
        of=source.id,
        every=series.every,
        until=until.isoformat(),
        ack=ack,
    )
    return series, bool(row is not None and row.awaiting_approval)
