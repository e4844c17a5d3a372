"""Group chats registering themselves: where they are in the city, and every change audited.

A group the bot is in is *known* (a Group row, active) from the moment it arrives; an admin's
/daftar makes it *subscribed* with a kelurahan, an RW and optionally an RT. The bot leaving
makes it inactive and keeps the rest; coming back asks to confirm the old registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Group, GroupLevel
from domain.audit import audit
from domain.groups import deactivate_chat, group_by_chat, migrate_chat
from domain.places import Place, area_label, place

# RW numbers in Kota Malang go to about 30 and RT to about 50; anything up to 99 is accepted.
MAX_NUMBER = 99


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
