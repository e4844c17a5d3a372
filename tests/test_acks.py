"""Acknowledgements on real SQLite: recording, duplicates, batches, the follow-up audience."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from db.engine import SessionFactory
from db.models import (
    Acknowledgement,
    Broadcast,
    BroadcastSource,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Group,
    GroupLevel,
)
from domain.acks import AckOutcome, AckWriter, Press, ack_counts, record_presses
from scheduler.audience import Audience
from scheduler.clock import FixedClock

KLOJEN_KEL = "35.73.02.1008"  # Oro-oro Dowo, Kecamatan Klojen
LOWOKWARU_KEL = "35.73.05.1005"  # Sumbersari, Kecamatan Lowokwaru
MESSAGE = 77


async def add_group(
    sessions: SessionFactory, now: datetime, chat_id: int, kelurahan: str, rw: int, rt: int | None
) -> int:
    async with sessions.begin() as session:
        group = Group(
            chat_id=chat_id,
            title=f"grup {chat_id}",
            level=GroupLevel.RT if rt else GroupLevel.RW,
            kelurahan_code=kelurahan,
            rw=rw,
            rt=rt,
            subscribed=True,
            created_at=now,
            updated_at=now,
        )
        session.add(group)
        await session.flush()
        return group.id


async def add_broadcast(
    sessions: SessionFactory,
    now: datetime,
    groups: dict[int, DeliveryStatus],
    *,
    parent_id: int | None = None,
) -> int:
    """A broadcast that went out: one delivery per group id, message MESSAGE in each chat."""
    async with sessions.begin() as session:
        broadcast = Broadcast(
            source=BroadcastSource.FOLLOW_UP if parent_id else BroadcastSource.CUSTOM,
            parent_id=parent_id,
            text="<b>Pengingat</b>",
            audience="all",
            scheduled_at=now,
            started_at=now,
            status=BroadcastStatus.DONE,
            created_at=now,
        )
        session.add(broadcast)
        await session.flush()
        for group_id, status in groups.items():
            chat_id = (await session.get(Group, group_id)).chat_id  # type: ignore[union-attr]
            session.add(
                Delivery(
                    broadcast_id=broadcast.id,
                    group_id=group_id,
                    chat_id=chat_id,
                    status=status,
                    telegram_message_id=MESSAGE if status is DeliveryStatus.SENT else None,
                    sent_at=now if status is DeliveryStatus.SENT else None,
                    last_error=None
                    if status is DeliveryStatus.SENT
                    else "Forbidden: bot was kicked",
                    created_at=now,
                    updated_at=now,
                )
            )
        return broadcast.id


async def test_presses_are_recorded_once_per_user_and_delivery(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    g1 = await add_group(sessions, now, -101, KLOJEN_KEL, 3, 1)
    g2 = await add_group(sessions, now, -102, KLOJEN_KEL, 3, 2)
    b = await add_broadcast(sessions, now, {g1: DeliveryStatus.SENT, g2: DeliveryStatus.FAILED})
    presses = [
        Press(b, -101, MESSAGE, 1, "Siti"),
        Press(b, -101, MESSAGE, 1, "Siti"),  # a double press in the same batch
        Press(b, -101, MESSAGE, 2, "Budi", is_admin=True),
        Press(b, -101, MESSAGE + 1, 3),  # another message of that chat
        Press(b, -102, MESSAGE, 3),  # the delivery that failed has no message
        Press(b + 1, -101, MESSAGE, 3),  # another broadcast's id
        Press(b, -999, MESSAGE, 3),  # a chat that never got it
    ]
    async with sessions.begin() as session:
        results = await record_presses(session, presses, now)
    assert [r.outcome for r in results] == [
        AckOutcome.RECORDED,
        AckOutcome.ALREADY,
        AckOutcome.RECORDED,
        *[AckOutcome.NOT_A_DELIVERY] * 4,
    ]
    async with sessions.begin() as session:
        (again,) = await record_presses(session, [Press(b, -101, MESSAGE, 2)], now)
    assert again.outcome is AckOutcome.ALREADY and again.delivery_id == results[0].delivery_id
    async with sessions() as session:
        rows = (
            await session.execute(select(Acknowledgement.user_id, Acknowledgement.is_admin))
        ).all()
        counts = await ack_counts(session, [results[0].delivery_id or 0])
    # The id and the admin flag only: the name a press carries is never stored.
    assert sorted(tuple(r) for r in rows) == [(1, False), (2, True)]
    assert "user_name" not in Acknowledgement.__table__.c
    assert counts == {results[0].delivery_id: 2}


async def test_the_writer_batches_a_burst_and_answers_each_press(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    groups = [await add_group(sessions, now, -200 - i, KLOJEN_KEL, 1, i + 1) for i in range(50)]
    b = await add_broadcast(sessions, now, dict.fromkeys(groups, DeliveryStatus.SENT))
    writer = AckWriter(sessions, clock)
    presses = [Press(b, -200 - i, MESSAGE, 1000 + u) for i in range(50) for u in range(6)]
    presses += presses[:20]  # pressed twice
    results = await asyncio.gather(*(writer.record(p) for p in presses))
    outcomes = [r.outcome for r in results]
    assert outcomes.count(AckOutcome.RECORDED) == 300
    assert outcomes.count(AckOutcome.ALREADY) == 20
    assert writer.batches <= 3  # hundreds of presses, a handful of transactions

    writer.mark_admin(results[0].delivery_id or 0, 1000)
    await writer.drain()
    async with sessions() as session:
        admins = (
            await session.scalars(
                select(Acknowledgement.user_id).where(Acknowledgement.is_admin.is_(True))
            )
        ).all()
    assert admins == [1000]


async def test_a_failed_write_fails_its_presses_and_the_next_batch_works(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    g = await add_group(sessions, now, -301, KLOJEN_KEL, 1, 1)
    b = await add_broadcast(sessions, now, {g: DeliveryStatus.SENT})
    writer = AckWriter(sessions, clock)
    broken = Press(b, -301, MESSAGE, 5, is_admin="ja")  # type: ignore[arg-type]
    with pytest.raises(StatementError, match="Not a boolean value"):
        await writer.record(broken)
    assert (await writer.record(Press(b, -301, MESSAGE, 5))).outcome is AckOutcome.RECORDED
    assert (await writer.record(Press(b, -301, MESSAGE, 5))).outcome is AckOutcome.ALREADY


async def test_follow_up_audience_is_the_delivered_groups_without_acknowledgement(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    acked = await add_group(sessions, now, -401, KLOJEN_KEL, 3, 1)
    silent = await add_group(sessions, now, -402, KLOJEN_KEL, 3, 2)
    failed = await add_group(sessions, now, -403, KLOJEN_KEL, 3, 3)
    elsewhere = await add_group(sessions, now, -404, LOWOKWARU_KEL, 5, None)
    acked_on_nudge = await add_group(sessions, now, -405, LOWOKWARU_KEL, 5, 1)
    b = await add_broadcast(
        sessions,
        now,
        {
            acked: DeliveryStatus.SENT,
            silent: DeliveryStatus.SENT,
            failed: DeliveryStatus.FAILED,
            elsewhere: DeliveryStatus.SENT,
            acked_on_nudge: DeliveryStatus.SENT,
        },
    )
    nudge = await add_broadcast(sessions, now, {acked_on_nudge: DeliveryStatus.SENT}, parent_id=b)
    async with sessions.begin() as session:
        await record_presses(
            session, [Press(b, -401, MESSAGE, 1), Press(nudge, -405, MESSAGE, 2)], now
        )

    async def ids(spec: str) -> set[int]:
        async with sessions() as session:
            query = Audience.parse(spec).groups_query().with_only_columns(Group.id)
            return set((await session.scalars(query)).all())

    assert await ids(f"unacked:{b}") == {silent, elsewhere}
    assert await ids(f"unacked:{b}/kecamatan:35.73.02") == {silent}
    assert await ids(f"unacked:{b}/kecamatan:35.73.05") == {elsewhere}
    audience = Audience.parse(f"unacked:{b}/kecamatan:35.73.05")
    assert audience.spec() == f"unacked:{b}/kecamatan:35.73.05"
    assert audience.within_kecamatan("35.73.05") and not audience.within_kecamatan("35.73.02")
    assert not Audience.parse(f"unacked:{b}").within_kecamatan("35.73.05")
    async with sessions() as session:
        assert await Audience.parse(f"unacked:{b}").count(session) == 2
        described = await audience.describe(session)
    assert described == f"grup yang belum konfirmasi siaran #{b} di Kecamatan Lowokwaru"
    # The existing specs are untouched.
    assert Audience.parse("kecamatan:35.73.02/rt").spec() == "kecamatan:35.73.02/rt"
