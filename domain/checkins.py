"""Check-in answers: every press kept, the group's answer, reports opened, silence listed.

A check-in is a broadcast whose row holds its question's answers (``scheduler.checkin``). A
press names the broadcast and an answer (the button's data), a chat and a message (Telegram's
update): only a delivery of that broadcast, sent to that chat as that message, can be answered.

- Every press is a row; the group's answer is the **latest press of one of its admins** (the
  RW/RT leaders); members' presses are kept and counted apart; pressing again changes the
  answer and the earlier press stays as history.
- A press once the check-in is closed (its broadcast expired or was cancelled) is not kept
  and opens nothing: the presser is told to use /lapor. After the deadline but before the
  expiry a press still counts (a "Belum" then opens a report).
- Presses are written in batches (``domain.checkin_writer``): a burst costs a few
  transactions, each press's result as if it had been written alone, in arrival order.
- An answer that opens a report ("Ada masalah", "Belum" after the deadline) opens one for the
  group, once per check-in, through a ``ReportOpener`` (the field reports' store); the row in
  ``checkin_followups`` is kept whatever the opener does, so nothing is lost without one.
- After the deadline, the groups reached whose leaders gave no answer are a signal: listed once
  to the officials of their area and the root admins (``domain.checkin_silences``).
- What the board and the reports show of them: ``domain.checkin_counts``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Broadcast,
    BroadcastStatus,
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
    CLOSED = "closed"  # the check-in has expired or was cancelled: the press is not kept
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
    """Keep one press; say what it did to the group's answer and whether it opened a report."""
    return (await record_answers(session, [(press, now)], opener))[0]


DeliveryKey = tuple[int, int, int]  # (broadcast_id, chat_id, telegram_message_id)


@dataclass(frozen=True)
class _Question:
    checkin: ResolvedCheckIn
    closes_at: datetime | None  # the broadcast's expiry
    cancelled: bool

    def closed(self, now: datetime) -> bool:
        return self.cancelled or (self.closes_at is not None and now >= self.closes_at)


async def _questions(session: AsyncSession, broadcast_ids: set[int]) -> dict[int, _Question]:
    rows = await session.execute(
        select(Broadcast.id, Broadcast.checkin, Broadcast.expires_at, Broadcast.status).where(
            Broadcast.id.in_(broadcast_ids)
        )
    )
    found = {}
    for broadcast_id, data, expires_at, status in rows:
        checkin = ResolvedCheckIn.from_json(data)
        if checkin is not None:
            found[broadcast_id] = _Question(
                checkin, expires_at, status == BroadcastStatus.CANCELLED
            )
    return found


async def _deliveries(
    session: AsyncSession, presses: Sequence[Press], known: dict[DeliveryKey, tuple[int, int]]
) -> dict[DeliveryKey, tuple[int, int]]:
    """(delivery id, group id) of each press's message; unknown keys are absent. Sent
    deliveries go into `known` (they never change their message); one still being sent does
    not (its message id is written a moment later)."""
    keys = {(p.broadcast_id, p.chat_id, p.message_id) for p in presses}
    found = {k: known[k] for k in keys if k in known}
    missing = keys - found.keys()
    if not missing:
        return found
    broadcasts = {k[0] for k in missing}
    chats = {k[1] for k in missing}
    messages = {k[2] for k in missing}
    rows = await session.execute(
        select(
            Delivery.id,
            Delivery.group_id,
            Delivery.broadcast_id,
            Delivery.status,
            Delivery.chat_id,
            Delivery.telegram_message_id,
            Group.chat_id,
        )
        .join(Group, Group.id == Delivery.group_id)
        .where(
            Delivery.broadcast_id.in_(broadcasts),
            (
                (Delivery.status == DeliveryStatus.SENT)
                & Delivery.chat_id.in_(chats)
                & Delivery.telegram_message_id.in_(messages)
            )
            # Sent, but its result not written yet (the engine writes results in batches a
            # fraction of a second later): the group's chat holds one message of it.
            | (
                (Delivery.status == DeliveryStatus.SENDING)
                & Delivery.telegram_message_id.is_(None)
                & Group.chat_id.in_(chats)
            ),
        )
    )
    sending: dict[tuple[int, int], tuple[int, int]] = {}
    for delivery_id, group_id, broadcast_id, status, chat_id, message_id, group_chat in rows:
        if status == DeliveryStatus.SENT:
            key = (broadcast_id, chat_id, message_id)
            if key in missing:
                found[key] = known[key] = (delivery_id, group_id)
        else:
            sending[(broadcast_id, group_chat)] = (delivery_id, group_id)
    for key in missing - found.keys():
        if (key[0], key[1]) in sending:
            found[key] = sending[(key[0], key[1])]
    return found


async def record_answers(
    session: AsyncSession,
    presses: Sequence[tuple[Press, datetime]],
    opener: ReportOpener,
    known: dict[DeliveryKey, tuple[int, int]] | None = None,
) -> list[AnswerResult]:
    """Keep a batch of presses (each with the time it was pressed), in order, with a handful of
    queries whatever its size; one result per press. `known`: a cache of sent deliveries."""
    if not presses:
        return []
    known = known if known is not None else {}
    questions = await _questions(session, {p.broadcast_id for p, _ in presses})
    deliveries = await _deliveries(session, [p for p, _ in presses], known)
    pairs = {(p.broadcast_id, d[1]) for p, _ in presses if (d := deliveries.get(_key(p)))}
    latest = await _latest_admin_answers(session, pairs)
    opened = await _followups_of(session, pairs)
    rows: list[dict[str, Any]] = []
    results: list[AnswerResult] = []
    for press, now in presses:
        delivery = deliveries.get(_key(press))
        question = questions.get(press.broadcast_id)
        if delivery is None or question is None:
            results.append(AnswerResult(Outcome.NOT_A_DELIVERY))
            continue
        answer = question.checkin.answer(press.answer)
        if answer is None:
            results.append(AnswerResult(Outcome.UNKNOWN_ANSWER))
            continue
        if question.closed(now):
            # Not kept: the check-in's answers are closed, and a press now has no reader. The
            # presser is told to report with /lapor instead (which asks what happened).
            results.append(AnswerResult(Outcome.CLOSED, answer.label))
            continue
        delivery_id, group_id = delivery
        rows.append(
            {
                "broadcast_id": press.broadcast_id,
                "group_id": group_id,
                "delivery_id": delivery_id,
                "user_id": press.user_id,
                "is_admin": press.is_admin,
                "answer": answer.key,
                "pressed_at": now,
            }
        )
        if not press.is_admin:
            results.append(AnswerResult(Outcome.MEMBER, answer.label))
            continue
        pair = (press.broadcast_id, group_id)
        before = latest.get(pair)
        latest[pair] = answer.key
        outcome = Outcome.RECORDED if before is None or before == answer.key else Outcome.CHANGED
        followup = None
        after_deadline = now >= question.checkin.deadline
        if pair not in opened and answer.opens_report(after_deadline=after_deadline):
            opened.add(pair)
            followup = await _open(session, press, group_id, question.checkin, now, opener)
        results.append(AnswerResult(outcome, answer.label, followup))
    if rows:
        await session.execute(insert(CheckInAnswer), rows)
    await session.flush()
    return results


def _key(press: Press) -> DeliveryKey:
    return (press.broadcast_id, press.chat_id, press.message_id)


async def _latest_admin_answers(
    session: AsyncSession, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], str]:
    """The groups' answers so far, by (broadcast, group), for the pairs in a batch."""
    if not pairs:
        return {}
    rows = await session.execute(
        select(CheckInAnswer.broadcast_id, CheckInAnswer.group_id, CheckInAnswer.answer)
        .where(
            CheckInAnswer.broadcast_id.in_({b for b, _ in pairs}),
            CheckInAnswer.group_id.in_({g for _, g in pairs}),
            CheckInAnswer.is_admin.is_(True),
        )
        .order_by(CheckInAnswer.pressed_at, CheckInAnswer.id)
    )
    latest: dict[tuple[int, int], str] = {}
    for broadcast_id, group_id, answer in rows:
        if (broadcast_id, group_id) in pairs:
            latest[(broadcast_id, group_id)] = answer  # later rows win
    return latest


async def _followups_of(session: AsyncSession, pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which (broadcast, group) pairs of a batch have opened their report already."""
    if not pairs:
        return set()
    rows = await session.execute(
        select(CheckInFollowUp.broadcast_id, CheckInFollowUp.group_id).where(
            CheckInFollowUp.broadcast_id.in_({b for b, _ in pairs}),
            CheckInFollowUp.group_id.in_({g for _, g in pairs}),
        )
    )
    return {(b, g) for b, g in rows if (b, g) in pairs}


async def _open(
    session: AsyncSession,
    press: Press,
    group_id: int,
    checkin: ResolvedCheckIn,
    now: datetime,
    opener: ReportOpener,
) -> FollowUp:
    """The group's one report for this check-in (the caller knows it has none yet)."""
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
