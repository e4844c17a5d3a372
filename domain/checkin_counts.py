"""Check-in answers counted: per kecamatan and kelurahan for the field board, and totals over
an official's area for `/laporan` (the answers themselves: ``domain.checkins``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Broadcast,
    CheckInAnswer,
    Delivery,
    DeliveryStatus,
    Group,
    Kecamatan,
    Kelurahan,
)
from domain.checkins import checkin_of, group_answers, member_answers
from domain.officials import scope_contains

# The board's name for groups whose leaders did not answer (beside the answers' own labels).
NO_ANSWER_LABEL = "tanpa jawaban"


@dataclass
class AreaCounts:
    """One check-in in one kelurahan: groups reached, by their leaders' answer."""

    broadcast_id: int
    kecamatan_code: str
    kecamatan: str
    kelurahan_code: str
    kelurahan: str
    answers: dict[str, int] = field(default_factory=dict)  # answer key -> groups
    unanswered: int = 0
    members: int = 0  # members' presses (latest per member), not counted as the group's

    @property
    def reached(self) -> int:
        return sum(self.answers.values()) + self.unanswered


async def _reached(session: AsyncSession, broadcast_id: int) -> list[tuple[int, str | None]]:
    """(group id, kelurahan code) of every group the check-in reached."""
    rows = await session.execute(
        select(Group.id, Group.kelurahan_code)
        .join(Delivery, Delivery.group_id == Group.id)
        .where(Delivery.broadcast_id == broadcast_id, Delivery.status == DeliveryStatus.SENT)
    )
    return [(g, k) for g, k in rows.all()]


async def place_names(session: AsyncSession) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    kelurahan = {
        code: (name, kec)
        for code, name, kec in (
            await session.execute(select(Kelurahan.code, Kelurahan.name, Kelurahan.kecamatan_code))
        ).all()
    }
    kecamatan = {c: n for c, n in (await session.execute(select(Kecamatan.code, Kecamatan.name)))}
    return kelurahan, kecamatan


async def checkin_broadcasts(session: AsyncSession) -> list[Broadcast]:
    """Every check-in that has gone out (or is going out), oldest first."""
    rows = await session.scalars(
        select(Broadcast)
        .where(Broadcast.checkin.is_not(None), Broadcast.started_at.is_not(None))
        .order_by(Broadcast.scheduled_at, Broadcast.id)
    )
    return list(rows.all())


async def checkin_counts(
    session: AsyncSession,
    broadcast_ids: Sequence[int] | None = None,
    scope: str | None = None,
) -> list[AreaCounts]:
    """Per check-in, kecamatan and kelurahan: how many groups answered each answer and how many
    nothing, and members' presses apart. `scope`: an official's region (None: the whole city).
    Every answer of the check-in is present (0 when nobody chose it)."""
    if broadcast_ids is None:
        broadcast_ids = [b.id for b in await checkin_broadcasts(session)]
    kelurahan, kecamatan = await place_names(session)
    result: list[AreaCounts] = []
    for broadcast_id in broadcast_ids:
        checkin = await checkin_of(session, broadcast_id)
        if checkin is None:
            continue
        answers = await group_answers(session, broadcast_id)
        members = await _member_rows(session, broadcast_id)
        areas: dict[str, AreaCounts] = {}
        for group_id, code in await _reached(session, broadcast_id):
            code = code or "-"
            if not scope_contains(scope, code if code != "-" else None):
                continue
            area = areas.get(code)
            if area is None:
                name, kec = kelurahan.get(code, (code, code.rsplit(".", 1)[0]))
                area = areas[code] = AreaCounts(
                    broadcast_id,
                    kec,
                    kecamatan.get(kec, kec),
                    code,
                    name,
                    answers={a.key: 0 for a in checkin.answers},
                )
            answer = answers.get(group_id)
            if answer is None:
                area.unanswered += 1
            else:
                area.answers[answer] = area.answers.get(answer, 0) + 1
            area.members += members.get(group_id, 0)
        result.extend(sorted(areas.values(), key=lambda a: (a.kecamatan, a.kelurahan)))
    return result


async def _member_rows(session: AsyncSession, broadcast_id: int) -> Counter[int]:
    """Members who answered, per group."""
    rows = await session.execute(
        select(CheckInAnswer.group_id, CheckInAnswer.user_id)
        .where(CheckInAnswer.broadcast_id == broadcast_id, CheckInAnswer.is_admin.is_(False))
        .distinct()
    )
    return Counter(g for g, _u in rows.all())


@dataclass(frozen=True)
class Totals:
    """One check-in over an official's area: (label, groups) per answer, the silent groups,
    and members' answers apart."""

    answers: list[tuple[str, int]]
    unanswered: int
    members: list[tuple[str, int]]


async def checkin_totals(
    session: AsyncSession, broadcast_id: int, scope: str | None = None
) -> Totals | None:
    """One check-in summed up (for /laporan); None when the broadcast is not a check-in."""
    checkin = await checkin_of(session, broadcast_id)
    if checkin is None:
        return None
    answers = {a.key: 0 for a in checkin.answers}
    unanswered = 0
    for area in await checkin_counts(session, [broadcast_id], scope):
        for key, n in area.answers.items():
            answers[key] = answers.get(key, 0) + n
        unanswered += area.unanswered
    groups = None
    if scope is not None:
        groups = {
            g for g, code in await _reached(session, broadcast_id) if scope_contains(scope, code)
        }
    members = await member_answers(session, broadcast_id, groups)
    return Totals(
        [(a.label, answers[a.key]) for a in checkin.answers],
        unanswered,
        [(a.label, members.get(a.key, 0)) for a in checkin.answers],
    )


async def latest_checkin_by_kelurahan(
    session: AsyncSession, scope: str | None, now: datetime
) -> dict[str, dict[str, int]]:
    """The field board's check-in line: the latest check-in sent by `now`, per kelurahan code,
    groups by their leaders' answer (the answer's label) and those with none."""
    sent = [b for b in await checkin_broadcasts(session) if b.scheduled_at <= now]
    if not sent:
        return {}
    latest = sent[-1]
    checkin = await checkin_of(session, latest.id)
    labels = {a.key: a.label for a in checkin.answers} if checkin else {}
    board: dict[str, dict[str, int]] = {}
    for area in await checkin_counts(session, [latest.id], scope):
        counts = {labels.get(key, key): n for key, n in area.answers.items()}
        counts[NO_ANSWER_LABEL] = area.unanswered
        board[area.kelurahan_code] = counts
    return board
