"""Check-in presses written in batches (domain.checkin_writer) on a real SQLite file: the same
answers as one press at a time, fewer transactions, a failing press alone refused, nothing
lost at a stop, and presses on a closed check-in neither kept nor opening a report."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.models import Broadcast, BroadcastStatus, CheckInAnswer, CheckInFollowUp
from domain.checkin_counts import checkin_totals
from domain.checkin_writer import CheckInWriter
from domain.checkins import Outcome, Press, group_answer
from scheduler.clock import FixedClock
from tests.scheduler.fakes import RecordingSender, add_groups
from tests.test_checkins import KLOJEN, _deliveries, _sent_checkin

Sent = dict[int, tuple[int, int]]  # chat id -> (message id, group id)


@dataclass
class Opener:
    """Records what it opened; fails for the groups in `broken`, as a store with a bug would."""

    broken: set[int] = field(default_factory=set)
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def open_report(self, session: AsyncSession, **kwargs: Any) -> Any:
        if kwargs["group_id"] in self.broken:
            raise RuntimeError("report store failed")
        self.calls.append(kwargs)
        return f"R{len(self.calls)}"


async def _checkin(
    sessions: SessionFactory, clock: FixedClock, groups: int
) -> tuple[int, list[int], Sent]:
    chats = await add_groups(sessions, groups, kelurahan=KLOJEN)
    broadcast_id = await _sent_checkin(sessions, clock, RecordingSender())
    return broadcast_id, chats, await _deliveries(sessions, broadcast_id)


def _press(broadcast_id: int, sent: Sent, chat: int, user: int, key: str, admin: bool) -> Press:
    return Press(broadcast_id, key, chat, sent[chat][0], user, admin)


async def _count(sessions: SessionFactory, model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_burst_is_written_in_few_transactions_with_the_answers_of_one_at_a_time(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    broadcast_id, chats, sent = await _checkin(sessions, clock, 40)
    opener = Opener()
    writer = CheckInWriter(sessions, lambda: opener, max_batch=16)
    now = clock.now()
    presses = []
    for n, chat in enumerate(chats):
        presses.append(_press(broadcast_id, sent, chat, 1000 + n, "sudah", True))
        presses.append(_press(broadcast_id, sent, chat, 5000 + n, "belum", False))
    # The first group's leader changes the answer, then reports a problem twice in one burst.
    first = chats[0]
    presses += [
        _press(broadcast_id, sent, first, 1000, "masalah", True),
        _press(broadcast_id, sent, first, 1000, "masalah", True),
        _press(broadcast_id, sent, first, 1000, "sudah", True),
    ]
    results = await asyncio.gather(*(writer.record(p, now) for p in presses))

    assert writer.batches < len(presses) // 4
    outcomes = [r.outcome for r in results]
    assert outcomes[: 2 * len(chats)] == [Outcome.RECORDED, Outcome.MEMBER] * len(chats)
    assert outcomes[-3:] == [Outcome.CHANGED, Outcome.RECORDED, Outcome.CHANGED]
    followups = [r.followup for r in results if r.followup is not None]
    assert [f.group_id for f in followups] == [sent[first][1]]  # one report, for that group
    assert len(opener.calls) == 1
    assert await _count(sessions, CheckInAnswer) == len(presses)  # every press kept
    assert await _count(sessions, CheckInFollowUp) == 1
    async with sessions() as session:
        # The group's answer is its leader's latest press; members are counted apart.
        assert await group_answer(session, broadcast_id, sent[first][1]) == "sudah"
        totals = await checkin_totals(session, broadcast_id)
    assert totals is not None
    assert totals.answers == [("Sudah tiba", 40), ("Belum", 0), ("Ada masalah", 0)]
    assert totals.members == [("Sudah tiba", 0), ("Belum", 40), ("Ada masalah", 0)]


async def test_a_press_that_fails_is_refused_alone_and_the_rest_of_its_batch_is_kept(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    broadcast_id, chats, sent = await _checkin(sessions, clock, 6)
    bad = sent[chats[2]][1]
    opener = Opener(broken={bad})
    writer = CheckInWriter(sessions, lambda: opener)
    now = clock.now()
    presses = [
        _press(broadcast_id, sent, chat, 100 + n, "masalah" if n % 2 == 0 else "sudah", True)
        for n, chat in enumerate(chats)
    ]
    results = await asyncio.gather(
        *(writer.record(p, now) for p in presses), return_exceptions=True
    )

    failed = [n for n, r in enumerate(results) if isinstance(r, BaseException)]
    assert failed == [2]
    assert writer.singles == len(presses) - 1  # the batch failed, then each went alone
    async with sessions() as session:
        kept = set(await session.scalars(select(CheckInAnswer.group_id)))
        reports = set(await session.scalars(select(CheckInFollowUp.group_id)))
    assert kept == {sent[c][1] for c in chats} - {bad}
    assert reports == {sent[chats[0]][1], sent[chats[4]][1]}
    # Once the store works again the same press goes through.
    opener.broken.clear()
    again = await writer.record(presses[2], now)
    assert again.outcome is Outcome.RECORDED and again.followup is not None


async def test_drain_waits_until_every_submitted_press_is_committed(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    broadcast_id, chats, sent = await _checkin(sessions, clock, 30)
    writer = CheckInWriter(sessions, Opener, max_batch=7)
    now = clock.now()
    tasks = [
        asyncio.create_task(writer.record(_press(broadcast_id, sent, c, n, "sudah", True), now))
        for n, c in enumerate(chats)
    ]
    await asyncio.sleep(0)  # submitted, not written yet
    assert writer.waiting == len(chats)
    await writer.drain()
    assert writer.waiting == 0
    assert await _count(sessions, CheckInAnswer) == len(chats)
    assert all(t.done() and t.result().outcome is Outcome.RECORDED for t in tasks)


async def test_after_the_deadline_belum_still_opens_a_report_and_after_the_expiry_nothing_counts(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    broadcast_id, chats, sent = await _checkin(sessions, clock, 3)
    async with sessions.begin() as session:  # deadline in 4 hours; answers close in 6
        await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(expires_at=clock.now() + timedelta(hours=6))
        )
    opener = Opener()
    writer = CheckInWriter(sessions, lambda: opener)
    first, second, third = chats

    clock.advance(timedelta(hours=4, minutes=1))
    late_but_open = await writer.record(
        _press(broadcast_id, sent, first, 1, "belum", True), clock.now()
    )
    assert late_but_open.outcome is Outcome.RECORDED and late_but_open.followup is not None

    clock.advance(timedelta(hours=2))
    closed = [
        await writer.record(_press(broadcast_id, sent, second, 2, "masalah", True), clock.now()),
        await writer.record(_press(broadcast_id, sent, second, 3, "masalah", False), clock.now()),
        await writer.record(_press(broadcast_id, sent, first, 1, "sudah", True), clock.now()),
    ]
    assert [r.outcome for r in closed] == [Outcome.CLOSED] * 3
    assert all(r.followup is None for r in closed)
    assert len(opener.calls) == 1  # only the "Belum" before the expiry
    assert await _count(sessions, CheckInAnswer) == 1
    async with sessions() as session:
        assert await group_answer(session, broadcast_id, sent[first][1]) == "belum"

    # A cancelled check-in is closed too, expiry or not.
    async with sessions.begin() as session:
        await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(expires_at=None, status=BroadcastStatus.CANCELLED)
        )
    press = _press(broadcast_id, sent, third, 4, "sudah", True)
    cancelled = await writer.record(press, clock.now())
    assert cancelled.outcome is Outcome.CLOSED
    assert await _count(sessions, CheckInAnswer) == 1
