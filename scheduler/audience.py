"""Who a broadcast goes to: all, rw, rt, kecamatan:<code> or kelurahan:<code>, with /rw or /rt.

A follow-up nudge goes to `unacked:<broadcast id>` (optionally `/kecamatan:<code>`): the groups
that received that broadcast and have not acknowledged it, resolved when the nudge is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Acknowledgement,
    Broadcast,
    BroadcastSource,
    Delivery,
    DeliveryStatus,
    Group,
    GroupLevel,
    GroupTopicOptOut,
    Kecamatan,
    Kelurahan,
)
from scheduler.topics import is_optional

_SPEC = re.compile(
    r"^(?:(?P<all>all)|(?P<kind>kecamatan|kelurahan):(?P<code>[0-9.]+))?"
    r"(?:/?(?P<level>rw|rt))?$"
)
_UNACKED = re.compile(
    r"^unacked:(?P<id>[0-9]+)(?:/(?P<kind>kecamatan|kelurahan):(?P<code>[0-9.]+))?$"
)


_KELURAHAN_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


def is_kelurahan_code(code: str | None) -> bool:
    """A Kemendagri kelurahan code (35.73.02.1008) rather than a kecamatan's (35.73.02)."""
    return code is not None and _KELURAHAN_CODE.match(code) is not None


def in_region(code: str | None, scope: str | None) -> bool:
    """Whether kelurahan `code` lies in `scope` (a kelurahan, a kecamatan, or None: the city)."""
    if scope is None:
        return True
    return code is not None and (code == scope or code.startswith(scope + "."))


def region_filter(kelurahan_code: Any, scope: str | None) -> Any:
    """SQL: a kelurahan-code column within `scope` (kelurahan codes extend their kecamatan's)."""
    if scope is None:
        return true()
    if is_kelurahan_code(scope):
        return kelurahan_code == scope
    return kelurahan_code.like(scope + ".%")


class AudienceError(ValueError):
    """An audience spec that names nothing real."""


@dataclass(frozen=True)
class Audience:
    kecamatan_code: str | None = None
    kelurahan_code: str | None = None
    level: GroupLevel | None = None
    # A follow-up: only groups that got this broadcast and have not acknowledged it.
    unacked_of: int | None = None

    @classmethod
    def parse(cls, spec: str) -> Audience:
        unacked = _UNACKED.match(spec.strip().lower())
        if unacked:
            if unacked["kind"] == "kelurahan":
                return cls(kelurahan_code=unacked["code"], unacked_of=int(unacked["id"]))
            return cls(kecamatan_code=unacked["code"], unacked_of=int(unacked["id"]))
        match = _SPEC.match(spec.strip().lower())
        if not match or not spec.strip():
            raise AudienceError(
                f"audience {spec!r}: use all, rw, rt, kecamatan:<kode> or kelurahan:<kode>,"
                " optionally followed by /rw or /rt"
            )
        level = GroupLevel(match["level"]) if match["level"] else None
        if match["kind"] == "kecamatan":
            return cls(kecamatan_code=match["code"], level=level)
        if match["kind"] == "kelurahan":
            return cls(kelurahan_code=match["code"], level=level)
        return cls(level=level)

    @classmethod
    def of_scope(cls, scope: str | None, **extra: Any) -> Audience:
        """The groups of an official's scope: a kelurahan code, a kecamatan code, or the city."""
        if is_kelurahan_code(scope):
            return cls(kelurahan_code=scope, **extra)
        return cls(kecamatan_code=scope, **extra)

    def spec(self) -> str:
        if self.unacked_of is not None:
            scope = (
                f"/kecamatan:{self.kecamatan_code}"
                if self.kecamatan_code
                else f"/kelurahan:{self.kelurahan_code}"
                if self.kelurahan_code
                else ""
            )
            return f"unacked:{self.unacked_of}{scope}"
        base = (
            f"kecamatan:{self.kecamatan_code}"
            if self.kecamatan_code
            else f"kelurahan:{self.kelurahan_code}"
            if self.kelurahan_code
            else "all"
        )
        return f"{base}/{self.level.value}" if self.level else base

    def within_kecamatan(self, kecamatan_code: str) -> bool:
        """Whether an official limited to kecamatan_code (or a kelurahan code) may address it."""
        if is_kelurahan_code(kecamatan_code):
            return self.kelurahan_code == kecamatan_code and self.kecamatan_code is None
        if self.kecamatan_code is not None:
            return self.kecamatan_code == kecamatan_code
        if self.kelurahan_code is not None:
            return self.kelurahan_code.startswith(kecamatan_code + ".")
        return False

    def narrows(self, wider: Audience) -> bool:
        """Whether every group this audience can reach is one `wider` reaches: the same
        audience or a narrower one (a repeated broadcast may not grow its audience)."""
        if self.unacked_of is not None or wider.unacked_of is not None:
            return self == wider
        if wider.level is not None and self.level != wider.level:
            return False
        if wider.kelurahan_code is not None:
            return self.kelurahan_code == wider.kelurahan_code
        if wider.kecamatan_code is not None:
            return self.within_kecamatan(wider.kecamatan_code)
        return True

    def groups_query(self, topic: str | None = None) -> Select[Any]:
        """The groups this audience reaches; with an optional `topic`, not those that opted out."""
        query = select(Group).where(Group.subscribed.is_(True), Group.active.is_(True))
        if is_optional(topic):
            opted_out = select(GroupTopicOptOut.group_id).where(GroupTopicOptOut.topic == topic)
            query = query.where(Group.id.not_in(opted_out))
        if self.kelurahan_code:
            query = query.where(Group.kelurahan_code == self.kelurahan_code)
        elif self.kecamatan_code:
            query = query.join(Kelurahan, Group.kelurahan_code == Kelurahan.code).where(
                Kelurahan.kecamatan_code == self.kecamatan_code
            )
        if self.level:
            query = query.where(Group.level == self.level)
        if self.unacked_of is not None:
            delivered = select(Delivery.group_id).where(
                Delivery.broadcast_id == self.unacked_of, Delivery.status == DeliveryStatus.SENT
            )
            query = query.where(
                Group.id.in_(delivered), Group.id.not_in(acknowledged_groups(self.unacked_of))
            )
        return query

    async def count(self, session: AsyncSession, topic: str | None = None) -> int:
        sub = self.groups_query(topic).with_only_columns(Group.id).subquery()
        return int(await session.scalar(select(func.count()).select_from(sub)) or 0)

    async def validate(self, session: AsyncSession) -> None:
        if self.kecamatan_code and await session.get(Kecamatan, self.kecamatan_code) is None:
            raise AudienceError(f"kecamatan {self.kecamatan_code} is not on the map")
        if self.kelurahan_code and await session.get(Kelurahan, self.kelurahan_code) is None:
            raise AudienceError(f"kelurahan {self.kelurahan_code} is not on the map")
        if self.unacked_of is not None and await session.get(Broadcast, self.unacked_of) is None:
            raise AudienceError(f"broadcast {self.unacked_of} does not exist")

    async def describe(self, session: AsyncSession) -> str:
        """In Bahasa Indonesia, for previews: 'grup RW di Kecamatan Klojen'."""
        who = {None: "semua grup", GroupLevel.RW: "grup RW", GroupLevel.RT: "grup RT"}[self.level]
        if self.unacked_of is not None:
            who = f"grup yang belum konfirmasi siaran #{self.unacked_of}"
        if self.kecamatan_code:
            kec = await session.get(Kecamatan, self.kecamatan_code)
            return f"{who} di Kecamatan {kec.name if kec else self.kecamatan_code}"
        if self.kelurahan_code:
            kel = await session.get(Kelurahan, self.kelurahan_code)
            return f"{who} di Kelurahan {kel.name if kel else self.kelurahan_code}"
        return f"{who} se-kota"


def addressed_within(spec: str, scope: str) -> bool:
    """Whether a stored audience spec stays inside `scope` (Audience.within_kecamatan); a spec
    that no longer parses does not."""
    try:
        return Audience.parse(spec).within_kecamatan(scope)
    except AudienceError:
        return False


def family_ids(broadcast_id: int) -> Select[Any]:
    """A broadcast and its follow-up nudges: pressing ✅ under either acknowledges it."""
    return select(Broadcast.id).where(
        or_(
            Broadcast.id == broadcast_id,
            and_(
                Broadcast.parent_id == broadcast_id,
                Broadcast.source == BroadcastSource.FOLLOW_UP,
            ),
        )
    )


def acknowledged_groups(broadcast_id: int) -> Select[Any]:
    """Ids of groups where someone acknowledged the broadcast (or one of its nudges)."""
    return (
        select(Delivery.group_id)
        .join(Acknowledgement, Acknowledgement.delivery_id == Delivery.id)
        .where(Delivery.broadcast_id.in_(family_ids(broadcast_id)))
        .distinct()
    )
