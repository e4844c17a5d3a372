"""Group chats registering themselves: where they are in the city, and every change audited.

A group the bot is in is *known* (a Group row, active) from the moment it arrives; an admin's
/daftar makes it *subscribed* with a kelurahan, an RW and optionally an RT. The bot leaving
makes it inactive and keeps the rest; coming back asks to confirm the old registration.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Group, GroupLevel
from domain.audit import audit
from domain.groups import deactivate_chat, group_by_chat, migrate_chat
from domain.inputs import InvalidNumber, parse_count
from domain.places import Place, all_places, area_label, place
from domain.regions import PlaceMatch, match_kelurahan, normalize_place

# RW numbers in Kota Malang go to about 30 and RT to about 50; anything up to 99 is accepted.
MAX_NUMBER = 99
# What is read of a typed /daftar: enough for "rt 3 rw 5 kel. oro-oro dowo kec. klojen".
MAX_TYPED = 120
MAX_PLACE_WORDS = 6


@dataclass(frozen=True)
class Registration:
    """Where a group belongs: an RW of a kelurahan, or one RT of that RW."""

    kelurahan_code: str
    rw: int
    rt: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.rw <= MAX_NUMBER or (
            self.rt is not None and not 1 <= self.rt <= MAX_NUMBER
        ):
            raise ValueError(f"RW/RT numbers run from 1 to {MAX_NUMBER}")

    @property
    def level(self) -> GroupLevel:
        return GroupLevel.RW if self.rt is None else GroupLevel.RT

    @property
    def area(self) -> str:
        return area_label(self.rw, self.rt)


def registration_of(group: Group) -> Registration | None:
    """The registration a group row holds (even when unsubscribed), if complete."""
    if group.kelurahan_code is None or group.rw is None:
        return None
    rt = group.rt if group.level is GroupLevel.RT else None
    try:
        return Registration(group.kelurahan_code, group.rw, rt)
    except ValueError:
        return None


def describe(registration: Registration, where: Place | None) -> str:
    """'RT 03 / RW 05, Kelurahan Sumbersari, Kecamatan Lowokwaru' (plain text)."""
    if where is None:
        return f"{registration.area}, kelurahan {registration.kelurahan_code}"
    return f"{registration.area}, Kelurahan {where.name}, Kecamatan {where.kecamatan}"


async def describe_in(session: AsyncSession, registration: Registration) -> str:
    return describe(registration, await place(session, registration.kelurahan_code))


# -- the one-line form: /daftar rw 5 sumbersari, /daftar rt 3 rw 5 kel. oro-oro dowo -----------


@dataclass(frozen=True)
class ParsedRegistration:
    """What a typed /daftar says: a registration, kelurahan to choose from, or what is wrong.

    `error` is Telegram HTML (what the admin typed is escaped in it).
    """

    registration: Registration | None = None
    rw: int | None = None
    rt: int | None = None
    candidates: list[PlaceMatch] = field(default_factory=list)
    error: str | None = None


FORM_HELP = (
    "Contoh: <code>/daftar rw 5 sumbersari</code> atau "
    "<code>/daftar rt 3 rw 5 kel. oro-oro dowo</code>. "
    "Atau ketik /daftar saja dan pilih lewat tombol."
)

# Numbers of any length are taken (then bounded with a message), never silently dropped.
_NUM = r"([0-9]+)(?![0-9])"
_PAIR = re.compile(rf"\brt\s*/\s*rw\s*[.:]?\s*{_NUM}\s*/\s*{_NUM}")
_RT_SLASH = re.compile(rf"\brt\s*[.:]?\s*{_NUM}\s*/\s*(?:rw\s*[.:]?\s*)?{_NUM}")
_RW = re.compile(rf"\brw\s*[.:]?\s*{_NUM}")
_RT = re.compile(rf"\brt\s*[.:]?\s*{_NUM}")
_FILLER = re.compile(r"\b(kel(urahan)?|di|grup|group)\b\.?")
_MARKER = re.compile(r"(\bkec(?:amatan)?\b\.?|\bkel(?:urahan)?\b\.?)")


def _split_kecamatan(text: str) -> tuple[str, str]:
    """'kel. sumbersari kec. lowokwaru' -> ('sumbersari', 'lowokwaru')."""
    kelurahan: list[str] = []
    kecamatan: list[str] = []
    into = kelurahan
    for piece in _MARKER.split(text):
        if _MARKER.fullmatch(piece):
            into = kecamatan if piece.startswith("kec") else kelurahan
        else:
            into.append(piece)
    return " ".join(kelurahan), " ".join(kecamatan)


def _kecamatan_code(text: str, regions: list[Place]) -> str | None:
    wanted = normalize_place(text).replace(" ", "")
    if len(wanted) < 4:
        return None
    for region in regions:
        name = normalize_place(region.kecamatan).replace(" ", "")
        if fuzz.ratio(wanted, name) >= 80:
            return region.kecamatan_code
    return None


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    match = pattern.search(text)
    if match is None:
        return None, text
    return match, text[: match.start()] + " " + text[match.end() :]


def _kelurahan_from(text: str, regions: list[Place]) -> list[PlaceMatch]:
    """Match the whole remainder first, then ever shorter runs of its words."""
    words = [w for w in re.split(r"\s+", _FILLER.sub(" ", text)) if w.strip(".,;:-")]
    words = words[:MAX_PLACE_WORDS]  # kelurahan names have one to three words
    if not words:
        return []
    for size in range(len(words), 0, -1):
        found: dict[str, PlaceMatch] = {}
        for start in range(len(words) - size + 1):
            span = " ".join(words[start : start + size])
            if len(span.replace(" ", "")) < 4:
                continue
            for m in match_kelurahan(span, regions):
                if m.code not in found or found[m.code].score < m.score:
                    found[m.code] = m
        if found:
            ranked = sorted(found.values(), key=lambda m: -m.score)
            exact = [m for m in ranked if m.score >= 100]
            return exact[:1] if len(exact) == 1 else ranked[:4]
    return []


def parse_registration(text: str, regions: list[Place]) -> ParsedRegistration:
    """Read 'rw 5 sumbersari', 'rt 3 rw 5 kel. oro-oro dowo', 'rt 03/05 tlogomas' and the like."""
    raw = " " + text[:MAX_TYPED].casefold().replace("\u00a0", " ") + " "
    numbers: dict[str, str] = {}
    for pattern in (_PAIR, _RT_SLASH):
        match, raw = _take(pattern, raw)
        if match:
            numbers["RT"], numbers["RW"] = match[1], match[2]
            break
    if "RW" not in numbers:
        match, raw = _take(_RW, raw)
        if match:
            numbers["RW"] = match[1]
    if "RT" not in numbers:
        match, raw = _take(_RT, raw)
        if match:
            numbers["RT"] = match[1]
    try:
        rt = parse_count(numbers["RT"], "RT", maximum=MAX_NUMBER) if "RT" in numbers else None
        rw = parse_count(numbers["RW"], "RW", maximum=MAX_NUMBER) if "RW" in numbers else None
    except InvalidNumber as exc:
        return ParsedRegistration(error=f"{html.escape(str(exc))} {FORM_HELP}")
    if rw is None:
        hint = " Untuk grup RT, sebutkan juga RW-nya." if rt is not None else ""
        return ParsedRegistration(rt=rt, error=f"Nomor RW belum disebut.{hint} {FORM_HELP}")
    rest, kecamatan = _split_kecamatan(raw)
    rest = rest.strip(" .,;:-")
    if not rest:
        return ParsedRegistration(rw=rw, rt=rt, error=f"Nama kelurahan belum disebut. {FORM_HELP}")
    kecamatan_code = _kecamatan_code(kecamatan, regions) if kecamatan.strip() else None
    if kecamatan_code is not None:
        regions = [r for r in regions if r.kecamatan_code == kecamatan_code]
    candidates = _kelurahan_from(rest, regions)
    if not candidates:
        return ParsedRegistration(
            rw=rw,
            rt=rt,
            error=(
                f"Kelurahan “{html.escape(rest[:40])}” tidak ditemukan di Kota Malang. " + FORM_HELP
            ),
        )
    if len(candidates) > 1:
        return ParsedRegistration(rw=rw, rt=rt, candidates=candidates)
    return ParsedRegistration(registration=Registration(candidates[0].code, rw, rt), rw=rw, rt=rt)


# -- changes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """The bot joined a group: first time, or back to one it knew (with its old registration)."""

    first_time: bool
    previous: Registration | None


def _touch(group: Group, title: str | None, chat_type: str | None, now: datetime) -> None:
    if title is not None:
        group.title = title[:255]
    if chat_type in ("group", "supergroup"):
        group.chat_type = chat_type
    group.updated_at = now


async def known_group(
    session: AsyncSession, chat_id: int, title: str | None, chat_type: str | None, now: datetime
) -> Group:
    """The group row for a chat, made (known, not subscribed) if the bot had not seen it."""
    group = await group_by_chat(session, chat_id)
    if group is None:
        group = Group(
            chat_id=chat_id,
            title=(title or "")[:255],
            chat_type=chat_type or "group",
            active=True,
            subscribed=False,
            created_at=now,
            updated_at=now,
        )
        session.add(group)
        await session.flush()
    elif title and group.title != title[:255]:
        _touch(group, title, chat_type, now)
    return group


async def bot_joined(
    session: AsyncSession,
    chat_id: int,
    title: str | None,
    chat_type: str | None,
    actor_id: int | None,
    now: datetime,
) -> Arrival:
    """Known and active again; a registration from before waits for an admin to confirm it."""
    group = await group_by_chat(session, chat_id)
    if group is None:
        await known_group(session, chat_id, title, chat_type, now)
        audit(session, now, actor_id, "group.join", f"chat:{chat_id}")
        return Arrival(first_time=True, previous=None)
    previous = registration_of(group)
    group.active = True
    group.inactive_reason = None
    group.subscribed = False
    _touch(group, title, chat_type, now)
    audit(
        session,
        now,
        actor_id,
        "group.join",
        f"chat:{chat_id}",
        previous=previous.area if previous else None,
        kelurahan=previous.kelurahan_code if previous else None,
    )
    return Arrival(first_time=False, previous=previous)


async def bot_left(
    session: AsyncSession, chat_id: int, reason: str, actor_id: int | None, now: datetime
) -> bool:
    """The bot was removed or kicked: inactive, history kept. False if the group was unknown."""
    group = await group_by_chat(session, chat_id)
    if group is None:
        return False
    was_active = group.active
    await deactivate_chat(session, chat_id, reason, now)
    if was_active:
        audit(session, now, actor_id, "group.leave", f"chat:{chat_id}", reason=reason)
    return True


async def subscribe(
    session: AsyncSession,
    chat_id: int,
    registration: Registration,
    actor_id: int,
    now: datetime,
    *,
    title: str | None = None,
    chat_type: str | None = None,
    kept: bool = False,
) -> Group:
    """Register (or re-register) the group; the audit entry keeps what it was before.

    `kept`: a returning group confirmed its old registration (noted in the audit entry).
    """
    group = await known_group(session, chat_id, title, chat_type, now)
    before = registration_of(group) if group.subscribed else None
    group.level = registration.level
    group.kelurahan_code = registration.kelurahan_code
    group.rw = registration.rw
    group.rt = registration.rt
    group.active = True
    group.inactive_reason = None
    group.subscribed = True
    group.subscribed_by = actor_id
    group.subscribed_at = now
    _touch(group, title, chat_type, now)
    audit(
        session,
        now,
        actor_id,
        "group.subscribe",
        f"chat:{chat_id}",
        kelurahan=registration.kelurahan_code,
        area=registration.area,
        before=(f"{before.kelurahan_code} {before.area}" if before else None),
        **({"kept": True} if kept else {}),
    )
    await session.flush()
    return group


async def keep_registration(
    session: AsyncSession, chat_id: int, actor_id: int, now: datetime
) -> Registration | None:
    """Confirm the registration a returning group had; None if it has none to keep."""
    group = await group_by_chat(session, chat_id)
    registration = registration_of(group) if group is not None else None
    if registration is not None:
        await subscribe(session, chat_id, registration, actor_id, now, kept=True)
    return registration


async def unsubscribe(session: AsyncSession, chat_id: int, actor_id: int, now: datetime) -> bool:
    """Stop broadcasts to the group; its registration stays for a later /daftar. False if none."""
    group = await group_by_chat(session, chat_id)
    if group is None or not group.subscribed:
        return False
    group.subscribed = False
    group.updated_at = now
    audit(session, now, actor_id, "group.unsubscribe", f"chat:{chat_id}")
    return True


async def migrate(
    session: AsyncSession, old_chat_id: int, new_chat_id: int, actor_id: int | None, now: datetime
) -> Group | None:
    """A group became a supergroup: same registration and history under the new id.

    Telegram sends two service messages per upgrade and they may be handled at once: writing
    first takes the database's write lock, so the second sees what the first did.
    """
    await session.execute(
        update(Group)
        .where(Group.chat_id.in_((old_chat_id, new_chat_id)))
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    moved_before = await group_by_chat(session, new_chat_id)
    if moved_before is not None and moved_before.migrated_from_chat_id == old_chat_id:
        return moved_before  # the other service message of the same upgrade got here first
    group = await migrate_chat(session, old_chat_id, new_chat_id, now)
    if group is not None:
        audit(
            session,
            now,
            actor_id,
            "group.migrate",
            f"chat:{new_chat_id}",
            from_chat=old_chat_id,
        )
    return group


# -- what officials see ------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupStatus:
    """A group as /status and /grup show it."""

    chat_id: int
    title: str
    active: bool
    subscribed: bool
    registration: Registration | None
    where: Place | None
    subscribed_at: datetime | None


async def group_status(session: AsyncSession, chat_id: int) -> GroupStatus | None:
    group = await group_by_chat(session, chat_id)
    if group is None:
        return None
    registration = registration_of(group)
    where = await place(session, registration.kelurahan_code) if registration else None
    return GroupStatus(
        group.chat_id,
        group.title,
        group.active,
        group.subscribed,
        registration,
        where,
        group.subscribed_at,
    )


@dataclass(frozen=True)
class GroupCount:
    """Registered (subscribed and active) groups of one kelurahan."""

    where: Place
    rw_groups: int
    rt_groups: int

    @property
    def total(self) -> int:
        return self.rw_groups + self.rt_groups


async def group_counts(
    session: AsyncSession, kecamatan_code: str | None = None
) -> list[GroupCount]:
    """Every kelurahan (of one kecamatan, or the city) with its registered group counts."""
    counts: dict[tuple[str, GroupLevel], int] = {}
    rows = await session.execute(
        select(Group.kelurahan_code, Group.level, func.count())
        .where(Group.subscribed.is_(True), Group.active.is_(True))
        .group_by(Group.kelurahan_code, Group.level)
    )
    for code, level, count in rows.all():
        if code is not None and level is not None:
            counts[(code, level)] = int(count)
    return [
        GroupCount(
            p,
            counts.get((p.code, GroupLevel.RW), 0),
            counts.get((p.code, GroupLevel.RT), 0),
        )
        for p in await all_places(session)
        if kecamatan_code is None or p.kecamatan_code == kecamatan_code
    ]


async def groups_in(session: AsyncSession, kelurahan_code: str) -> list[GroupStatus]:
    """Every group ever registered in a kelurahan, registered ones first, by RW and RT."""
    where = await place(session, kelurahan_code)
    groups = (
        await session.scalars(select(Group).where(Group.kelurahan_code == kelurahan_code))
    ).all()
    out = [
        GroupStatus(
            g.chat_id,
            g.title,
            g.active,
            g.subscribed,
            registration_of(g),
            where,
            g.subscribed_at,
        )
        for g in groups
    ]
    return sorted(
        out,
        key=lambda s: (
            not (s.subscribed and s.active),
            s.registration.rw if s.registration else 0,
            (s.registration.rt or 0) if s.registration else 0,
            s.title,
        ),
    )
