"""Who got a broadcast and who read it, by kecamatan and kelurahan: plain numbers, no Telegram.

Everything comes from a few aggregate queries (GROUP BY), never one query per group. A group
counts as acknowledged when anyone there pressed ✅ under the broadcast or under one of its
follow-up nudges; the leader counts when one of those people is an admin of the group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Subquery, case, exists, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Acknowledgement,
    Broadcast,
    BroadcastSource,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Group,
    Kecamatan,
    Kelurahan,
)
from domain.places import scope_name
from messages.library import UnknownMessageError, default_library
from messages.telegram_html import visible_text
from scheduler.audience import family_ids, region_filter

NO_KELURAHAN = "(tanpa kelurahan)"
NO_KECAMATAN = "(tanpa kecamatan)"

DELIVERY_LABEL = {
    DeliveryStatus.PENDING: "menunggu",
    DeliveryStatus.SENDING: "sedang dikirim",
    DeliveryStatus.SENT: "terkirim",
    DeliveryStatus.FAILED: "gagal",
    DeliveryStatus.SKIPPED: "dilewati",
}


class ReportError(LookupError):
    """Why a report cannot be made, in Bahasa Indonesia, with what to do instead."""


@dataclass(frozen=True)
class BroadcastInfo:
    id: int
    title: str
    source: BroadcastSource
    status: BroadcastStatus
    audience: str
    parent_id: int | None
    scheduled_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None


@dataclass
class Tally:
    targeted: int = 0  # deliveries: every group the broadcast was meant for
    delivered: int = 0
    failed: int = 0
    acknowledged: int = 0  # groups with at least one acknowledgement
    leader: int = 0  # groups where an admin acknowledged

    @property
    def other(self) -> int:
        """Pending, in flight or skipped."""
        return self.targeted - self.delivered - self.failed

    @property
    def rate(self) -> float:
        """Acknowledged groups per delivered group, 0..1."""
        return min(1.0, self.acknowledged / self.delivered) if self.delivered else 0.0

    @property
    def leader_rate(self) -> float:
        return min(1.0, self.leader / self.delivered) if self.delivered else 0.0

    def add(self, other: Tally) -> None:
        self.targeted += other.targeted
        self.delivered += other.delivered
        self.failed += other.failed
        self.acknowledged += other.acknowledged
        self.leader += other.leader


@dataclass(frozen=True)
class KelurahanLine:
    code: str | None
    name: str
    tally: Tally


@dataclass(frozen=True)
class KecamatanLine:
    code: str | None
    name: str
    tally: Tally
    kelurahan: list[KelurahanLine] = field(default_factory=list)


@dataclass(frozen=True)
class BroadcastReport:
    broadcast: BroadcastInfo
    kecamatan_scope: str | None  # None: the whole city
    scope_name: str
    total: Tally
    kecamatan: list[KecamatanLine]
    follow_ups: list[BroadcastInfo]

    def kelurahan(self) -> list[tuple[KecamatanLine, KelurahanLine]]:
        return [(kec, kel) for kec in self.kecamatan for kel in kec.kelurahan]


def broadcast_title(broadcast: Broadcast, limit: int = 48) -> str:
    """A short name for menus: the library title, or the first line of the text."""
    if broadcast.source is BroadcastSource.FOLLOW_UP and broadcast.parent_id is not None:
        return f"Pengingat untuk siaran #{broadcast.parent_id}"
    if broadcast.message_key:
        try:
            return default_library().get(broadcast.message_key).title
        except UnknownMessageError:
            pass
    first = next((ln for ln in visible_text(broadcast.text or "").splitlines() if ln.strip()), "")
    first = first.strip() or "teks sendiri"
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def _info(broadcast: Broadcast) -> BroadcastInfo:
    return BroadcastInfo(
        id=broadcast.id,
        title=broadcast_title(broadcast),
        source=broadcast.source,
        status=broadcast.status,
        audience=broadcast.audience,
        parent_id=broadcast.parent_id,
        scheduled_at=broadcast.scheduled_at,
        started_at=broadcast.started_at,
        finished_at=broadcast.finished_at,
        expires_at=broadcast.expires_at,
    )


def _in_scope(kecamatan_code: str | None) -> Select[Any]:
    """Deliveries' groups within a kecamatan (all registered groups when None)."""
    return select(Group.id).where(region_filter(Group.kelurahan_code, kecamatan_code))


def _of_agenda(agenda: str | None) -> Any:
    """A filter on the agenda column; "siaran-langsung" is officials' one-offs (no agenda)."""
    if agenda is None:
        return true()
    if agenda == AD_HOC_AGENDA:
        return Broadcast.agenda.is_(None)
    return Broadcast.agenda == agenda


# Officials' one-off broadcasts, which belong to no agenda file (domain.agendas.AD_HOC).
AD_HOC_AGENDA = "siaran-langsung"


async def recent_broadcasts(
    session: AsyncSession,
    kecamatan_code: str | None = None,
    limit: int = 8,
    agenda: str | None = None,
) -> list[BroadcastInfo]:
    """Broadcasts that went out (to the scope, of one agenda if given), newest first."""
    has_deliveries = exists().where(
        Delivery.broadcast_id == Broadcast.id, Delivery.group_id.in_(_in_scope(kecamatan_code))
    )
    broadcasts = (
        await session.scalars(
            select(Broadcast)
            .where(Broadcast.started_at.is_not(None), has_deliveries, _of_agenda(agenda))
            .order_by(Broadcast.started_at.desc(), Broadcast.id.desc())
            .limit(limit)
        )
    ).all()
    return [_info(b) for b in broadcasts]


async def find_broadcast(
    session: AsyncSession,
    broadcast_id: int | None,
    kecamatan_code: str | None = None,
    agenda: str | None = None,
) -> BroadcastInfo:
    """The broadcast asked for, or the latest that went out; ReportError when there is none."""
    if broadcast_id is None:
        recent = await recent_broadcasts(session, kecamatan_code, limit=1, agenda=agenda)
        if not recent:
            raise ReportError("Belum ada siaran yang terkirim ke grup.")
        return recent[0]
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise ReportError(
            f"Siaran #{broadcast_id} tidak ditemukan. Ketik /laporan tanpa nomor untuk siaran "
            "terakhir, atau pilih dari daftar."
        )
    return _info(broadcast)


async def follow_ups(session: AsyncSession, broadcast_id: int) -> list[BroadcastInfo]:
    rows = (
        await session.scalars(
            select(Broadcast)
            .where(
                Broadcast.parent_id == broadcast_id,
                Broadcast.source == BroadcastSource.FOLLOW_UP,
                Broadcast.status != BroadcastStatus.CANCELLED,
            )
            .order_by(Broadcast.id)
        )
    ).all()
    return [_info(b) for b in rows]


def acked_groups(broadcast_id: int) -> Subquery:
    """Per group: people who acknowledged the broadcast or its nudges, and whether a leader."""
    return (
        select(
            Delivery.group_id.label("group_id"),
            func.count(func.distinct(Acknowledgement.user_id)).label("people"),
            func.max(case((Acknowledgement.is_admin.is_(True), 1), else_=0)).label("leader"),
        )
        .join(Acknowledgement, Acknowledgement.delivery_id == Delivery.id)
        .where(Delivery.broadcast_id.in_(family_ids(broadcast_id)))
        .group_by(Delivery.group_id)
        .subquery("acked")
    )


async def broadcast_report(
    session: AsyncSession,
    broadcast_id: int | None,
    kecamatan_code: str | None = None,
    agenda: str | None = None,
) -> BroadcastReport:
    """Targeted, delivered, failed, acknowledged, leader-acknowledged, per kelurahan."""
    info = await find_broadcast(session, broadcast_id, kecamatan_code, agenda)
    acked = acked_groups(info.id)
    status = Delivery.status
    query = (
        select(
            Kelurahan.kecamatan_code,
            Kecamatan.name,
            Group.kelurahan_code,
            Kelurahan.name,
            func.count(),
            func.sum(case((status == DeliveryStatus.SENT, 1), else_=0)),
            func.sum(case((status == DeliveryStatus.FAILED, 1), else_=0)),
            func.sum(case((acked.c.people > 0, 1), else_=0)),
            func.sum(case((acked.c.leader == 1, 1), else_=0)),
        )
        .select_from(Delivery)
        .join(Group, Group.id == Delivery.group_id)
        .outerjoin(Kelurahan, Kelurahan.code == Group.kelurahan_code)
        .outerjoin(Kecamatan, Kecamatan.code == Kelurahan.kecamatan_code)
        .outerjoin(acked, acked.c.group_id == Delivery.group_id)
        .where(Delivery.broadcast_id == info.id)
        .group_by(Kelurahan.kecamatan_code, Kecamatan.name, Group.kelurahan_code, Kelurahan.name)
    )
    if kecamatan_code is not None:
        query = query.where(region_filter(Kelurahan.code, kecamatan_code))
    by_kecamatan: dict[str | None, KecamatanLine] = {}
    total = Tally()
    for kec_code, kec_name, kel_code, kel_name, n, sent, failed, ack, leader in (
        await session.execute(query)
    ).all():
        tally = Tally(n, int(sent or 0), int(failed or 0), int(ack or 0), int(leader or 0))
        kec = by_kecamatan.get(kec_code)
        if kec is None:
            kec = KecamatanLine(kec_code, kec_name or NO_KECAMATAN, Tally())
            by_kecamatan[kec_code] = kec
        kec.kelurahan.append(KelurahanLine(kel_code, kel_name or NO_KELURAHAN, tally))
        kec.tally.add(tally)
        total.add(tally)
    lines = sorted(by_kecamatan.values(), key=lambda k: (k.code is None, k.code or ""))
    for kec in lines:
        kec.kelurahan.sort(key=lambda k: (k.code is None, k.name))
    return BroadcastReport(
        broadcast=info,
        kecamatan_scope=kecamatan_code,
        scope_name=await scope_name(session, kecamatan_code),
        total=total,
        kecamatan=lines,
        follow_ups=await follow_ups(session, info.id),
    )
