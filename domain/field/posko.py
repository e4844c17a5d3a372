"""Operations rooms (posko): the group chats where officials receive and act on cases.

One city posko (kecamatan None) and optionally one per kecamatan. A case goes to its
kecamatan's posko when there is one, else to the city's; a case opened while no posko exists
waits (unposted) and is handed to the first posko made for its scope — nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseStatus, FieldCase, Kecamatan, PoskoGroup
from domain.audit import audit
from domain.officials import Actor, scope_contains

_OPEN = (CaseStatus.NEW, CaseStatus.HANDLING)


class PoskoRefusal(StrEnum):
    NOT_ADMIN = "not_admin"
    OUT_OF_SCOPE = "out_of_scope"
    UNKNOWN_KECAMATAN = "unknown_kecamatan"


class PoskoRefused(ValueError):
    def __init__(self, reason: PoskoRefusal) -> None:
        self.reason = reason
        super().__init__(reason.value)


@dataclass(frozen=True)
class PoskoSet:
    chat_id: int
    kecamatan_code: str | None
    replaced: int | None  # the chat that was this scope's posko before, if another
    waiting: int  # open cases not yet posted that now go to this posko


async def set_posko(
    session: AsyncSession,
    actor: Actor,
    chat_id: int,
    title: str,
    now: datetime,
    kecamatan_code: str | None = None,
) -> PoskoSet:
    """Make `chat_id` the posko of a scope (the city, or one kecamatan): an admin official of
    that scope only. It replaces the scope's previous posko; a chat is posko of one scope."""
    if not actor.is_admin:
        raise PoskoRefused(PoskoRefusal.NOT_ADMIN)
    scope = kecamatan_code if kecamatan_code is not None else actor.scope
    if scope is not None and await session.get(Kecamatan, scope) is None:
        raise PoskoRefused(PoskoRefusal.UNKNOWN_KECAMATAN)
    if not scope_contains(actor.scope, scope):
        raise PoskoRefused(PoskoRefusal.OUT_OF_SCOPE)
    previous = await _posko_row(session, scope)
    replaced = previous.chat_id if previous is not None and previous.chat_id != chat_id else None
    if previous is not None:
        await session.delete(previous)
    own = await session.get(PoskoGroup, chat_id)
    if own is not None and own is not previous:
        await session.delete(own)
    await session.flush()
    session.add(
        PoskoGroup(
            chat_id=chat_id, kecamatan_code=scope, title=title[:255], set_by=actor.user_id,
            set_at=now,
        )
    )  # fmt: skip
    # Open cases not posted yet (no posko, or the replaced one's) now go here.
    query = select(FieldCase).where(FieldCase.status.in_(_OPEN), FieldCase.posted_at.is_(None))
    if scope is not None:
        query = query.where(FieldCase.kecamatan_code == scope)
    waiting = 0
    for case in (await session.scalars(query)).all():
        if case.posko_chat_id is None or case.posko_chat_id in (replaced, chat_id):
            case.posko_chat_id = chat_id
            waiting += 1
    audit(session, now, actor.user_id, "posko.set", f"chat:{chat_id}", kecamatan=scope)
    await session.flush()
    return PoskoSet(chat_id, scope, replaced, waiting)


async def _posko_row(session: AsyncSession, scope: str | None) -> PoskoGroup | None:
    condition = (
        PoskoGroup.kecamatan_code.is_(None) if scope is None else PoskoGroup.kecamatan_code == scope
    )
    return await session.scalar(select(PoskoGroup).where(condition))


async def posko_for(session: AsyncSession, kecamatan_code: str | None) -> int | None:
    """The chat a case of this kecamatan goes to: its own posko, else the city's."""
    rows = (
        await session.scalars(
            select(PoskoGroup).where(
                or_(
                    PoskoGroup.kecamatan_code.is_(None),
                    PoskoGroup.kecamatan_code == kecamatan_code,
                )
            )
        )
    ).all()
    own = [p for p in rows if p.kecamatan_code is not None]
    city = [p for p in rows if p.kecamatan_code is None]
    chosen = own or city
    return chosen[0].chat_id if chosen else None


async def posko_of_chat(session: AsyncSession, chat_id: int) -> PoskoGroup | None:
    return await session.get(PoskoGroup, chat_id)


async def posko_chats(session: AsyncSession) -> list[int]:
    return list((await session.scalars(select(PoskoGroup.chat_id))).all())


async def unposted(session: AsyncSession, chat_id: int, limit: int = 1000) -> list[FieldCase]:
    """Cases waiting to be shown in this posko, oldest first (closed ones are shown too: a case
    closed before it was posted still belongs on the record)."""
    return list(
        (
            await session.scalars(
                select(FieldCase)
                .where(FieldCase.posko_chat_id == chat_id, FieldCase.posted_at.is_(None))
                .order_by(FieldCase.id)
                .limit(limit)
            )
        ).all()
    )


async def mark_posted(
    session: AsyncSession,
    case_ids: list[int],
    chat_id: int,
    message_id: int,
    now: datetime,
    *,
    digest: bool = False,
) -> None:
    for case_id in case_ids:
        case = await session.get(FieldCase, case_id)
        if case is not None:
            case.posko_chat_id = chat_id
            case.posko_message_id = message_id
            case.posko_digest = digest
            case.posted_at = case.posted_at or now
