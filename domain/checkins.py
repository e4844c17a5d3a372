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
  to the officials of their area and the root admins (``domain.checkin_silences``).
- What the board and the reports show of them: ``domain.checkin_counts``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Broadcast,
    CheckInAnswer,
    CheckInFollowUp,
    Delivery,
    DeliveryStatus,
    Group,
)
from domain.questions import mask_nik
from scheduler.checkin import ResolvedCheckIn

MAX_DESCRIPTION = 500


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


async def checkin_of(session: AsyncSession, broadcast_id: int) -> ResolvedCheckIn | None:
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
    checkin = await checkin_of(session, press.broadcast_id) if delivery else None
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
