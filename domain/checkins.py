"""Check-in answers: every press kept, the group's answer, reports opened, silence listed.

A check-in is a broadcast whose row holds its question's answers (``scheduler.checkin``). A
press names the broadcast and an answer (the button's data), a chat and a message (Telegram's
update): only a delivery of that broadcast, sent to that chat as that message, can be answered.

- Every press is a row; the group's answer is the **latest press of one of its admins** (the
  RW/RT leaders); members' presses are kept and counted apart; pressing again changes the
  answer and the earlier press stays as history.
- An answer that opens a report ("Ada masalah", "Belum" after the deadline) opens one for the
  group, once per check-in, through a ``ReportOpener`` (the field reports' store); the row in
  ``checkin_followups`` is kept whatever the opener does, so nothing is lost without one.
- After the deadline, the groups reached whose leaders gave no answer are a signal: listed once
  (``checkin_silences``) to the officials of their area and the root admins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Broadcast,
    BroadcastStatus,
    CheckInAnswer,
    CheckInFollowUp,
    CheckInSilence,
    Delivery,
    DeliveryStatus,
    Group,
    Kecamatan,
    Kelurahan,
    Official,
)
from domain.officials import scope_contains, scope_of
from domain.questions import mask_nik
from scheduler.checkin import ResolvedCheckIn

MAX_DESCRIPTION = 500
# The board's name for groups whose leaders did not answer (beside the answers' own labels).
NO_ANSWER_LABEL = "tanpa jawaban"


class ReportOpener(Protocol):
    """Opens a field report (``domain.field.reports.open_report`` has this signature)."""

    async def open_report(
        self,
        session: AsyncSession,
        *,
        group_id: int,
        reporter_id: int | None,
        category: str,
        description: str | None,
        source: str,
        now: datetime,
        tps: str | None = None,
    ) -> Any: ...


class RecordOnly:
    """The opener while no report store is plugged in: the follow-up row is the record."""

    async def open_report(
        self,
        session: AsyncSession,
        *,
        group_id: int,
        reporter_id: int | None,
        category: str,
        description: str | None,
        source: str,
        now: datetime,
        tps: str | None = None,
    ) -> Any:
        return None


class Outcome(StrEnum):
    RECORDED = "recorded"  # a leader's first answer for the group
    CHANGED = "changed"  # a leader changed the group's answer
    MEMBER = "member"  # a member's press: kept, counted apart
    NOT_A_DELIVERY = "not_a_delivery"  # forged data, another chat or message, not a check-in
    UNKNOWN_ANSWER = "unknown_answer"  # the check-in has no such answer


@dataclass(frozen=True)
class Press:
    """One press of a check-in's answer button, as plain data."""

    broadcast_id: int
    answer: str
    chat_id: int
    message_id: int
    user_id: int
    is_admin: bool


@dataclass(frozen=True)
class FollowUp:
    """A report the press opened: whom to ask for a description."""

    id: int
    group_id: int
    category: str


@dataclass(frozen=True)
class AnswerResult:
    outcome: Outcome
    label: str = ""
    followup: FollowUp | None = None


def source_of(broadcast_id: int) -> str:
    return f"checkin:{broadcast_id}"


async def _checkin(session: AsyncSession, broadcast_id: int) -> ResolvedCheckIn | None:
    data = await session.scalar(select(Broadcast.checkin).where(Broadcast.id == broadcast_id))
    return ResolvedCheckIn.from_json(data)


async def record_answer(
    session: AsyncSession, press: Press, now: datetime, opener: ReportOpener
) -> AnswerResult:
    """Keep the press; say what it did to the group's answer and whether it opened a report."""
    delivery = (
        await session.execute(
            select(Delivery.id, Delivery.group_id)
            .join(Group, Group.id == Delivery.group_id)
            .where(
                Delivery.broadcast_id == press.broadcast_id,
                (
                    (Delivery.status == DeliveryStatus.SENT)
                    & (Delivery.chat_id == press.chat_id)
                    & (Delivery.telegram_message_id == press.message_id)
                )
                # Sent, but its result not written yet (the engine writes results in batches a
                # fraction of a second later): the group's chat holds one message of it.
                | (
                    (Delivery.status == DeliveryStatus.SENDING)
                    & Delivery.telegram_message_id.is_(None)
                    & (Group.chat_id == press.chat_id)
                ),
            )
        )
    ).first()
    checkin = await _checkin(session, press.broadcast_id) if delivery else None
    if delivery is None or checkin is None:
        return AnswerResult(Outcome.NOT_A_DELIVERY)
    answer = checkin.answer(press.answer)
    if answer is None:
        return AnswerResult(Outcome.UNKNOWN_ANSWER)
    delivery_id, group_id = delivery
    before = await group_answer(session, press.broadcast_id, group_id)
    session.add(
        CheckInAnswer(
            broadcast_id=press.broadcast_id,
            group_id=group_id,
            delivery_id=delivery_id,
            user_id=press.user_id,
            is_admin=press.is_admin,
            answer=answer.key,
            pressed_at=now,
        )
    )
    if not press.is_admin:
        await session.flush()
        return AnswerResult(Outcome.MEMBER, answer.label)
    outcome = Outcome.RECORDED if before is None or before == answer.key else Outcome.CHANGED
    followup = None
    if answer.opens_report(after_deadline=now >= checkin.deadline):
        followup = await _open(session, press, group_id, checkin, now, opener)
    await session.flush()
    return AnswerResult(outcome, answer.label, followup)


async def _open(
    session: AsyncSession,
    press: Press,
    group_id: int,
    checkin: ResolvedCheckIn,
    now: datetime,
    opener: ReportOpener,
) -> FollowUp | None:
    """One report per check-in and group: a second "Ada masalah" does not open another."""
    exists = await session.scalar(
        select(CheckInFollowUp.id).where(
            CheckInFollowUp.broadcast_id == press.broadcast_id,
            CheckInFollowUp.group_id == group_id,
        )
    )
    if exists is not None:
        return None
    source = source_of(press.broadcast_id)
    report = await opener.open_report(
        session,
        group_id=group_id,
        reporter_id=press.user_id,
        category=checkin.category,
        description=None,
        source=source,
        now=now,
    )
    row = CheckInFollowUp(
        broadcast_id=press.broadcast_id,
        group_id=group_id,
        reporter_id=press.user_id,
        answer=press.answer,
        category=checkin.category,
        source=source,
        report_ref=_ref(report),
        opened_at=now,
    )
    session.add(row)
    await session.flush()
    return FollowUp(row.id, group_id, checkin.category)


def _ref(report: Any) -> str | None:
    if report is None:
        return None
    # A field report (domain.field.reports.OpenedReport) is named by its report number.
    ref = getattr(report, "report_id", getattr(report, "id", report))
    return str(ref)[:40]


class DescriptionProblem(ValueError):
    """The description cannot be taken: `key` is the library message saying what to do."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


async def add_description(
    session: AsyncSession,
    followup_id: int,
    text: str,
    now: datetime,
    opener: ReportOpener,
) -> CheckInFollowUp:
    """The leader's short description of the problem, stored (16-digit numbers masked) and
    passed to the report store. Its store groups reports of one place and category that come
    within half an hour into one case, so the described report joins the one the press opened."""
    description = text.strip()
    if not description:
        raise DescriptionProblem("checkin.uraian_kosong")
    if len(description) > MAX_DESCRIPTION:
        raise DescriptionProblem("checkin.uraian_terlalu_panjang", panjang=len(description))
    row = await session.get(CheckInFollowUp, followup_id)
    if row is None:
        raise LookupError(f"check-in follow-up {followup_id} does not exist")
    row.description = mask_nik(description)
    row.described_at = now
    report = await opener.open_report(
        session,
        group_id=row.group_id,
        reporter_id=row.reporter_id,
        category=row.category,
        description=row.description,
        source=row.source,
        now=now,
    )
    row.report_ref = _ref(report) or row.report_ref
    await session.flush()
    return row


# -- the group's answer --------------------------------------------------------------------------


async def group_answer(session: AsyncSession, broadcast_id: int, group_id: int) -> str | None:
    """The group's answer: its leaders' latest press (None: no leader answered)."""
    return await session.scalar(
        select(CheckInAnswer.answer)
        .where(
            CheckInAnswer.broadcast_id == broadcast_id,
            CheckInAnswer.group_id == group_id,
            CheckInAnswer.is_admin.is_(True),
        )
        .order_by(CheckInAnswer.pressed_at.desc(), CheckInAnswer.id.desc())
        .limit(1)
    )


async def group_answers(session: AsyncSession, broadcast_id: int) -> dict[int, str]:
    """Every group's answer to one check-in, by group id (groups without one are absent)."""
    rows = await session.execute(
        select(CheckInAnswer.group_id, CheckInAnswer.answer)
        .where(CheckInAnswer.broadcast_id == broadcast_id, CheckInAnswer.is_admin.is_(True))
        .order_by(CheckInAnswer.pressed_at, CheckInAnswer.id)
    )
    latest: dict[int, str] = {}
    for group_id, answer in rows:
        latest[group_id] = answer  # later rows win
    return latest


async def member_answers(
    session: AsyncSession, broadcast_id: int, groups: set[int] | None = None
) -> Counter[str]:
    """Members' (non-admin) answers, each member's latest press counted once per group;
    `groups`: only those groups (an official's scope)."""
    rows = await session.execute(
        select(CheckInAnswer.group_id, CheckInAnswer.user_id, CheckInAnswer.answer)
        .where(CheckInAnswer.broadcast_id == broadcast_id, CheckInAnswer.is_admin.is_(False))
        .order_by(CheckInAnswer.pressed_at, CheckInAnswer.id)
    )
    latest: dict[tuple[int, int], str] = {}
    for group_id, user_id, answer in rows:
        if groups is None or group_id in groups:
            latest[(group_id, user_id)] = answer
    return Counter(latest.values())


# -- counts for the board ------------------------------------------------------------------------


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


async def _names(session: AsyncSession) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
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
    kelurahan, kecamatan = await _names(session)
    result: list[AreaCounts] = []
    for broadcast_id in broadcast_ids:
        checkin = await _checkin(session, broadcast_id)
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
    checkin = await _checkin(session, broadcast_id)
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


# -- no answer is a signal -------------------------------------------------------------------------


@dataclass(frozen=True)
class SilentGroup:
    group_id: int
    title: str
    kelurahan_code: str | None
    kelurahan: str
    rw: int | None
    rt: int | None


@dataclass(frozen=True)
class SilenceNotice:
    """What one official is told about one check-in: the silent groups in their area."""

    user_id: int
    broadcast_id: int
    message_key: str | None
    deadline: datetime
    groups: list[SilentGroup]
    reached: int


async def due_silences(session: AsyncSession, now: datetime) -> list[int]:
    """Check-ins past their deadline whose no-answer list has not been sent yet."""
    listed = select(CheckInSilence.broadcast_id)
    ids = []
    for broadcast in (
        await session.scalars(
            select(Broadcast).where(
                Broadcast.checkin.is_not(None),
                Broadcast.started_at.is_not(None),
                Broadcast.id.not_in(listed),
            )
        )
    ).all():
        checkin = ResolvedCheckIn.from_json(broadcast.checkin)
        if checkin is not None and checkin.deadline <= now:
            ids.append(broadcast.id)
    return sorted(ids)


async def upcoming_deadlines(session: AsyncSession) -> list[tuple[int, datetime]]:
    """(broadcast id, deadline) of every check-in whose list is still to be sent (for jobs)."""
    listed = select(CheckInSilence.broadcast_id)
    rows = (
        await session.scalars(
            select(Broadcast).where(
                Broadcast.checkin.is_not(None),
                Broadcast.id.not_in(listed),
                # Set aside before it ever went out: nobody was asked, so nobody is silent.
                Broadcast.status.not_in((BroadcastStatus.CANCELLED, BroadcastStatus.SKIPPED))
                | Broadcast.started_at.is_not(None),
            )
        )
    ).all()
    result = []
    for broadcast in rows:
        checkin = ResolvedCheckIn.from_json(broadcast.checkin)
        if checkin is not None:
            result.append((broadcast.id, checkin.deadline))
    return sorted(result, key=lambda r: r[1])


async def take_silence(
    session: AsyncSession, broadcast_id: int, now: datetime, root_ids: Iterable[int]
) -> list[SilenceNotice] | None:
    """Claim a check-in's no-answer list (None: already sent) and say who is told what.

    Officials scoped to a kecamatan or kelurahan get the silent groups inside it; root admins
    get all of them. Recorded in the same transaction as the claim: sent once.
    """
    if await session.get(CheckInSilence, broadcast_id) is not None:
        return None
    broadcast = await session.get(Broadcast, broadcast_id)
    checkin = ResolvedCheckIn.from_json(broadcast.checkin if broadcast else None)
    if broadcast is None or checkin is None:
        return None
    answered = await group_answers(session, broadcast_id)
    kelurahan, _ = await _names(session)
    reached = await session.execute(
        select(Group)
        .join(Delivery, Delivery.group_id == Group.id)
        .where(Delivery.broadcast_id == broadcast_id, Delivery.status == DeliveryStatus.SENT)
        .order_by(Group.kelurahan_code, Group.rw, Group.rt, Group.id)
    )
    groups = list(reached.scalars().all())
    silent = [
        SilentGroup(
            g.id,
            g.title,
            g.kelurahan_code,
            kelurahan.get(g.kelurahan_code or "", (g.kelurahan_code or "-", ""))[0],
            g.rw,
            g.rt,
        )
        for g in groups
        if g.id not in answered
    ]
    roots = set(root_ids)
    officials = (
        await session.scalars(
            select(Official).where(
                Official.active.is_(True),
                Official.kecamatan_code.is_not(None)
                | Official.root.is_(True)
                | Official.user_id.in_(roots),
            )
        )
    ).all()
    notices: list[SilenceNotice] = []
    for official in sorted(officials, key=lambda o: o.user_id):
        # A lurah's staff get their kelurahan's groups, a camat's their kecamatan's.
        scope = None if official.root or official.user_id in roots else scope_of(official)
        mine = [s for s in silent if scope_contains(scope, s.kelurahan_code)]
        total = sum(1 for g in groups if scope_contains(scope, g.kelurahan_code))
        if mine:
            notices.append(
                SilenceNotice(
                    official.user_id,
                    broadcast_id,
                    broadcast.message_key,
                    checkin.deadline,
                    mine,
                    total,
                )
            )
    session.add(
        CheckInSilence(
            broadcast_id=broadcast_id,
            silent_groups=len(silent),
            recipients=len(notices),
            listed_at=now,
        )
    )
    await session.flush()
    return notices


async def latest_checkin_by_kelurahan(
    session: AsyncSession, scope: str | None, now: datetime
) -> dict[str, dict[str, int]]:
    """The field board's check-in line: the latest check-in sent by `now`, per kelurahan code,
    groups by their leaders' answer (the answer's label) and those with none."""
    sent = [b for b in await checkin_broadcasts(session) if b.scheduled_at <= now]
    if not sent:
        return {}
    latest = sent[-1]
    checkin = await _checkin(session, latest.id)
    labels = {a.key: a.label for a in checkin.answers} if checkin else {}
    board: dict[str, dict[str, int]] = {}
    for area in await checkin_counts(session, [latest.id], scope):
        counts = {labels.get(key, key): n for key, n in area.answers.items()}
        counts[NO_ANSWER_LABEL] = area.unanswered
        board[area.kelurahan_code] = counts
    return board
