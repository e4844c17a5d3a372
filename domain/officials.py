"""Officials and what each may do: admins approve and send, operators draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Kecamatan, Official, OfficialRole
from domain.audit import audit


class PermissionDenied(Exception):
    """The message says, in Bahasa Indonesia, why and what to do instead."""


@dataclass(frozen=True)
class Actor:
    """An official as the domain sees them: plain data, no ORM row."""

    user_id: int
    role: OfficialRole
    kecamatan_code: str | None

    @property
    def is_admin(self) -> bool:
        return self.role is OfficialRole.ADMIN

    @property
    def citywide(self) -> bool:
        return self.kecamatan_code is None


async def find_actor(session: AsyncSession, user_id: int) -> Actor | None:
    official = await session.get(Official, user_id)
    if official is None or not official.active:
        return None
    return Actor(official.user_id, official.role, official.kecamatan_code)


async def require_actor(session: AsyncSession, user_id: int) -> Actor:
    actor = await find_actor(session, user_id)
    if actor is None:
        raise PermissionDenied(
            "Perintah ini hanya untuk petugas Pemkot yang terdaftar. "
            "Hubungi Bagian Pemerintahan bila Anda petugas."
        )
    return actor


async def add_official(
    session: AsyncSession,
    actor: Actor,
    user_id: int,
    role: OfficialRole,
    kecamatan_code: str | None,
    now: datetime,
    name: str = "",
) -> Official:
    """Add or change an official; an admin limited to a kecamatan can only add within it."""
    if not actor.is_admin:
        raise PermissionDenied("Hanya admin yang dapat menambah petugas.")
    if not actor.citywide and kecamatan_code != actor.kecamatan_code:
        raise PermissionDenied("Anda hanya dapat menambah petugas untuk kecamatan Anda sendiri.")
    if kecamatan_code is not None and await session.get(Kecamatan, kecamatan_code) is None:
        raise PermissionDenied(f"Kecamatan {kecamatan_code} tidak dikenal.")
    if user_id == actor.user_id:
        raise PermissionDenied("Anda tidak dapat mengubah peran Anda sendiri.")
    official = await session.get(Official, user_id)
    if official is None:
        official = Official(user_id=user_id, added_at=now, added_by=actor.user_id, role=role)
        session.add(official)
    official.role = role
    official.kecamatan_code = kecamatan_code
    official.active = True
    official.name = name or official.name or ""
    audit(
        session,
        now,
        actor.user_id,
        "official.add",
        f"user:{user_id}",
        role=role.value,
        kecamatan=kecamatan_code,
    )
    await session.flush()
    return official


async def list_officials(session: AsyncSession) -> list[Official]:
    return list((await session.scalars(select(Official).where(Official.active.is_(True)))).all())
