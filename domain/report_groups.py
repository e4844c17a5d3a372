"""A broadcast group by group: one line per group it targeted (the CSV an official downloads,
the list of who has not read it yet). The totals by kecamatan and kelurahan are domain.reports.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Delivery, DeliveryStatus, Group, GroupLevel, Kecamatan, Kelurahan
from domain.reports import DELIVERY_LABEL, NO_KECAMATAN, NO_KELURAHAN, acked_groups
from scheduler.audience import region_filter


@dataclass(frozen=True)
class GroupLine:
    """One group's delivery of a broadcast: one CSV row."""

    group_id: int
    kecamatan: str
    kelurahan_code: str | None
    kelurahan: str
    level: GroupLevel | None
    rw: int | None
    rt: int | None
    title: str
    chat_id: int
    status: DeliveryStatus
    sent_at: datetime | None
    acknowledgements: int
    leader_acknowledged: bool
    last_error: str | None

    @property
    def place(self) -> str:
        """'RW 03' or 'RT 02/RW 03', as people say it."""
        if self.level is GroupLevel.RT and self.rt is not None:
            return f"RT {self.rt:02d}/RW {self.rw or 0:02d}"
        if self.rw is not None:
            return f"RW {self.rw:02d}"
        return "grup"


async def group_lines(
    session: AsyncSession,
    broadcast_id: int,
    kecamatan_code: str | None = None,
    *,
    unacknowledged_only: bool = False,
) -> list[GroupLine]:
    """One line per group the broadcast targeted, by kecamatan, kelurahan, RW, RT."""
    acked = acked_groups(broadcast_id)
    query = (
        select(
            Group.id,
            Kecamatan.name,
            Group.kelurahan_code,
            Kelurahan.name,
            Group.level,
            Group.rw,
            Group.rt,
            Group.title,
            func.coalesce(Delivery.chat_id, Group.chat_id),
            Delivery.status,
            Delivery.sent_at,
            func.coalesce(acked.c.people, 0),
            func.coalesce(acked.c.leader, 0),
            Delivery.last_error,
        )
        .select_from(Delivery)
        .join(Group, Group.id == Delivery.group_id)
        .outerjoin(Kelurahan, Kelurahan.code == Group.kelurahan_code)
        .outerjoin(Kecamatan, Kecamatan.code == Kelurahan.kecamatan_code)
        .outerjoin(acked, acked.c.group_id == Delivery.group_id)
        .where(Delivery.broadcast_id == broadcast_id)
        # Each RW's own group, then its RTs.
        .order_by(
            Kelurahan.kecamatan_code,
            Kelurahan.name,
            Group.rw,
            Group.level.desc(),
            Group.rt,
            Group.id,
        )
    )
    if kecamatan_code is not None:  # a kecamatan or (a lurah) a kelurahan
        query = query.where(region_filter(Kelurahan.code, kecamatan_code))
    if unacknowledged_only:
        query = query.where(Delivery.status == DeliveryStatus.SENT, acked.c.people.is_(None))
    return [
        GroupLine(
            group_id=gid,
            kecamatan=kec or NO_KECAMATAN,
            kelurahan_code=kel_code,
            kelurahan=kel or NO_KELURAHAN,
            level=GroupLevel(level) if level else None,
            rw=rw,
            rt=rt,
            title=title or "",
            chat_id=chat_id,
            status=DeliveryStatus(status),
            sent_at=sent_at,
            acknowledgements=int(people),
            leader_acknowledged=bool(leader),
            last_error=error,
        )
        for (
            gid,
            kec,
            kel_code,
            kel,
            level,
            rw,
            rt,
            title,
            chat_id,
            status,
            sent_at,
            people,
            leader,
            error,
        ) in (await session.execute(query)).all()
    ]


CSV_HEADER = (
    "kecamatan",
    "kelurahan",
    "tingkat",
    "rw",
    "rt",
    "nama_grup",
    "chat_id",
    "status_kirim",
    "waktu_kirim",
    "jumlah_konfirmasi",
    "ketua_konfirmasi",
    "galat_terakhir",
)


def report_csv(lines: Iterable[GroupLine], tz: ZoneInfo, tz_label: str = "WIB") -> bytes:
    """One row per group, UTF-8 with a BOM so spreadsheet programs read the accents right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = list(CSV_HEADER)
    header[8] = f"waktu_kirim_{tz_label.lower()}"
    writer.writerow(header)
    for line in lines:
        sent = line.sent_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if line.sent_at else ""
        writer.writerow(
            (
                line.kecamatan,
                line.kelurahan,
                line.level.value.upper() if line.level else "",
                "" if line.rw is None else line.rw,
                "" if line.rt is None else line.rt,
                line.title,
                line.chat_id,
                DELIVERY_LABEL.get(line.status, line.status.value),
                sent,
                line.acknowledgements,
                "ya" if line.leader_acknowledged else "tidak",
                line.last_error or "",
            )
        )
    return out.getvalue().encode("utf-8-sig")
