"""The broadcast engine on a real SQLite file with a recording Sender."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from db.engine import SessionFactory
from db.models import (
    Broadcast,
    BroadcastSource,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Group,
    GroupLevel,
)
from domain.groups import GROUP_DIRECTORY
from scheduler.clock import FixedClock
from scheduler.engine import BroadcastEngine, BroadcastSummary, EngineConfig
from scheduler.sender import Outcome, SendResult
from tests.scheduler.fakes import RecordingSender, add_groups

FAST = EngineConfig(rate=5000, workers=8, backoff_base=0.001, backoff_max=0.01)


async def _broadcast(
    sessions: SessionFactory,
    clock: FixedClock,
    *,
    audience: str = "all",
    expires_in: timedelta | None = timedelta(hours=2),
    status: BroadcastStatus = BroadcastStatus.SCHEDULED,
    text: str | None = "<b>TPS sudah buka</b>",
) -> int:
    async with sessions.begin() as session:
        broadcast = Broadcast(
            source=BroadcastSource.CUSTOM,
            text=text,
            message_key="h.tps_buka",
            audience=audience,
            scheduled_at=clock.now(),
            expires_at=clock.now() + expires_in if expires_in else None,
            status=status,
            created_at=clock.now(),
        )
        session.add(broadcast)
        await session.flush()
        return broadcast.id


def _engine(
    sessions: SessionFactory, clock: FixedClock, sender: RecordingSender, **kw: object
) -> BroadcastEngine:
    finished: list[BroadcastSummary] = []

    async def on_finished(summary: BroadcastSummary, _b: Broadcast) -> None:
        finished.append(summary)

    engine = BroadcastEngine(
        sessions,
        sender,
        clock,
        render=lambda b: f"rendered {b.message_key}",
        groups=GROUP_DIRECTORY,
        config=kw.pop("config", FAST),  # type: ignore[arg-type]
        on_finished=on_finished,
    )
    engine.finished = finished  # type: ignore[attr-defined]
    return engine


async def _deliveries(sessions: SessionFactory, broadcast_id: int) -> list[Delivery]:
    async with sessions() as session:
        return list(
            (
                await session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id))
            ).all()
        )


async def test_every_group_gets_it_once(sessions: SessionFactory, clock: FixedClock) -> None:
    chats = await add_groups(sessions, 120)
    await add_groups(sessions, 5, start_chat=-9000, subscribed=False)
    broadcast_id = await _broadcast(sessions, clock)
    sender = RecordingSender()
    engine = _engine(sessions, clock, sender)

    summary = await engine.run(broadcast_id)

    assert summary.status is BroadcastStatus.DONE
    assert summary.sent == 120
    assert sorted(sender.sent_chats()) == sorted(chats)
    deliveries = await _deliveries(sessions, broadcast_id)
    assert all(d.status is DeliveryStatus.SENT and d.telegram_message_id for d in deliveries)
    assert {m.ack_data for m in sender.calls} == {f"ack:{broadcast_id}"}
    assert all(len(m.ack_data.encode()) <= 64 for m in sender.calls)
    assert engine.finished[0].sent == 120  # type: ignore[attr-defined]

    # Running it again sends nothing more.
    again = await engine.run(broadcast_id)
    assert again.sent == 120 and len(sender.calls) == 120


async def test_audience_by_kecamatan_and_level(sessions: SessionFactory, clock: FixedClock) -> None:
    lowokwaru = await add_groups(sessions, 3, kelurahan="35.73.05.1005", start_chat=-100)
    await add_groups(sessions, 4, kelurahan="35.73.02.1008", start_chat=-200)
    lowokwaru_rt = await add_groups(
        sessions, 2, kelurahan="35.73.05.1001", level=GroupLevel.RT, start_chat=-300
    )
    sender = RecordingSender()
    engine = _engine(sessions, clock, sender)

    b1 = await _broadcast(sessions, clock, audience="kecamatan:35.73.05")
    await engine.run(b1)
    assert sorted(sender.sent_chats()) == sorted(lowokwaru + lowokwaru_rt)

    sender.calls.clear()
    b2 = await _broadcast(sessions, clock, audience="kecamatan:35.73.05/rt")
    await engine.run(b2)
    assert sorted(sender.sent_chats()) == sorted(lowokwaru_rt)


async def test_library_message_is_rendered_once_at_start(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    await add_groups(sessions, 2)
    broadcast_id = await _broadcast(sessions, clock, text=None)
    sender = RecordingSender()
    await _engine(sessions, clock, sender).run(broadcast_id)
    assert {m.html for m in sender.calls} == {"rendered h.tps_buka"}
    async with sessions() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        assert broadcast is not None and broadcast.text == "rendered h.tps_buka"


async def test_expired_before_start_is_skipped_with_reason(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    await add_groups(sessions, 3)
    broadcast_id = await _broadcast(sessions, clock, expires_in=timedelta(hours=1))
    clock.advance(timedelta(hours=2))
    sender = RecordingSender()
    summary = await _engine(sessions, clock, sender).run(broadcast_id)
    assert summary.status is BroadcastStatus.SKIPPED
    assert summary.reason and "kedaluwarsa" in summary.reason
    assert sender.calls == []


async def test_unapproved_broadcast_is_not_sent(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    await add_groups(sessions, 3)
    broadcast_id = await _broadcast(sessions, clock, status=BroadcastStatus.AWAITING_APPROVAL)
    sender = RecordingSender()
    summary = await _engine(sessions, clock, sender).run(broadcast_id)
    assert summary.status is BroadcastStatus.AWAITING_APPROVAL
    assert sender.calls == []


async def test_telegram_answers_handled_by_type(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    chats = await add_groups(sessions, 6, start_chat=-10)
    kicked, migrated, gone, bad, flaky, slow = chats
    new_id = -1009999999999

    def script(message, nth):  # type: ignore[no-untyped-def]
        if message.chat_id == kicked:
            return SendResult(Outcome.FORBIDDEN, reason="Forbidden: bot was kicked")
        if message.chat_id == migrated:
            return SendResult(Outcome.MIGRATED, new_chat_id=new_id, reason="migrated")
        if message.chat_id == gone:
            return SendResult(Outcome.CHAT_NOT_FOUND, reason="Bad Request: chat not found")
        if message.chat_id == bad:
            return SendResult(Outcome.BAD_REQUEST, reason="Bad Request: can't parse entities")
        if message.chat_id == flaky and nth < 3:
            return SendResult(Outcome.TRANSIENT, reason="502 Bad Gateway")
        if message.chat_id == slow and nth == 1:
            return SendResult(Outcome.RETRY_AFTER, retry_after=0.05, reason="429")
        return None

    sender = RecordingSender(script=script)
    broadcast_id = await _broadcast(sessions, clock)
    summary = await _engine(sessions, clock, sender).run(broadcast_id)

    assert summary.status is BroadcastStatus.DONE
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Group.chat_id, Group.active, Group.migrated_from_chat_id, Delivery)
                .join(Delivery, Delivery.group_id == Group.id)
                .where(Delivery.broadcast_id == broadcast_id)
            )
        ).all()
    by_old = {r[3].chat_id if r[2] is None else r[2]: r for r in rows}
    assert by_old[kicked][1] is False and by_old[kicked][3].status is DeliveryStatus.FAILED
    assert "kicked" in (by_old[kicked][3].last_error or "")
    assert by_old[gone][1] is False and by_old[gone][3].status is DeliveryStatus.FAILED
    assert by_old[bad][1] is True and by_old[bad][3].status is DeliveryStatus.FAILED
    assert by_old[flaky][3].status is DeliveryStatus.SENT and by_old[flaky][3].attempts == 3
    assert by_old[slow][3].status is DeliveryStatus.SENT and by_old[slow][3].attempts == 1
    moved = by_old[migrated]
    assert moved[0] == new_id and moved[3].status is DeliveryStatus.SENT
    assert moved[3].chat_id == new_id
    assert sender.per_chat[new_id] == 1


async def test_transient_errors_give_up_after_bound(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    await add_groups(sessions, 1)
    sender = RecordingSender(script=lambda m, n: SendResult(Outcome.TRANSIENT, reason="timeout"))
    broadcast_id = await _broadcast(sessions, clock)
    summary = await _engine(sessions, clock, sender).run(broadcast_id)
    assert summary.failed == 1 and len(sender.calls) == FAST.max_attempts
    (delivery,) = await _deliveries(sessions, broadcast_id)
    assert delivery.attempts == FAST.max_attempts and "timeout" in (delivery.last_error or "")


async def test_resume_after_crash_sends_only_what_is_left(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    chats = await add_groups(sessions, 50)
    broadcast_id = await _broadcast(sessions, clock)
    # A run that died after 20 sends were recorded and 5 were claimed in flight.
    engine = _engine(sessions, clock, RecordingSender())
    prepared = await engine._prepare(broadcast_id)
    assert not isinstance(prepared, BroadcastSummary)
    deliveries = sorted(await _deliveries(sessions, broadcast_id), key=lambda d: d.id)
    async with sessions.begin() as session:
        for d in deliveries[:20]:
            row = await session.get(Delivery, d.id)
            assert row is not None
            row.status, row.telegram_message_id, row.attempts = DeliveryStatus.SENT, 1, 1
        for d in deliveries[20:25]:
            row = await session.get(Delivery, d.id)
            assert row is not None
            row.status = DeliveryStatus.SENDING

    sender = RecordingSender()
    summary = await _engine(sessions, clock, sender).run(broadcast_id)
    assert summary.status is BroadcastStatus.DONE and summary.sent == 50
    assert len(sender.calls) == 30  # the 25 never sent and the 5 in flight, nothing else
    assert len(set(sender.sent_chats())) == 30
    assert set(sender.sent_chats()) <= set(chats)


async def test_stop_skips_the_rest(sessions: SessionFactory, clock: FixedClock) -> None:
    await add_groups(sessions, 40)
    broadcast_id = await _broadcast(sessions, clock)
    fifth = asyncio.Event()

    def script(message, nth):  # type: ignore[no-untyped-def]
        if len(sender.calls) >= 5:
            fifth.set()
        return None

    sender = RecordingSender(script=script, delay=0.01)
    engine = _engine(sessions, clock, sender, config=EngineConfig(rate=200, workers=2))
    run = asyncio.create_task(engine.run(broadcast_id))
    await fifth.wait()
    await engine.stop(broadcast_id, "dibatalkan oleh 900001")
    await run
    deliveries = await _deliveries(sessions, broadcast_id)
    sent = [d for d in deliveries if d.status is DeliveryStatus.SENT]
    skipped = [d for d in deliveries if d.status is DeliveryStatus.SKIPPED]
    assert len(sent) == len(sender.calls) and 5 <= len(sent) < 40
    assert len(sent) + len(skipped) == 40
    async with sessions() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        assert broadcast is not None and broadcast.status is BroadcastStatus.CANCELLED


async def test_expiry_during_a_run_skips_the_rest(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    await add_groups(sessions, 30)
    broadcast_id = await _broadcast(sessions, clock, expires_in=timedelta(minutes=5))

    def script(message, nth):  # type: ignore[no-untyped-def]
        if len(sender.calls) == 10:
            clock.advance(timedelta(minutes=10))
        return None

    sender = RecordingSender(script=script)
    engine = _engine(sessions, clock, sender, config=EngineConfig(rate=5000, workers=1))
    summary = await engine.run(broadcast_id)
    assert summary.status is BroadcastStatus.DONE
    assert summary.sent == 10 and summary.skipped == 20


async def test_cancel_in_the_database_stops_a_running_broadcast(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    """A cancel from another process (the shell) reaches the engine within one claim batch."""
    await add_groups(sessions, 100)
    broadcast_id = await _broadcast(sessions, clock)

    url = str(sessions.kw["bind"].url.database)

    def cancel_elsewhere() -> None:
        import contextlib
        import sqlite3

        # Another process writes the cancel: a separate, synchronous connection.
        with contextlib.closing(sqlite3.connect(url, timeout=30)) as conn, conn:
            conn.execute(
                "UPDATE broadcasts SET status='cancelled', status_reason='dari shell' WHERE id=?",
                (broadcast_id,),
            )

    cancelling: list[object] = []

    def script(message, nth):  # type: ignore[no-untyped-def]
        if len(sender.calls) == 10:
            # In a thread: blocking the event loop would also block the engine's own writes.
            cancelling.append(asyncio.get_running_loop().run_in_executor(None, cancel_elsewhere))
        return None

    sender = RecordingSender(script=script, delay=0.01)
    config = EngineConfig(rate=5000, workers=1, claim_batch=8)
    summary = await _engine(sessions, clock, sender, config=config).run(broadcast_id)
    assert cancelling, "the cancel was never written"
    assert summary.status is BroadcastStatus.CANCELLED
    assert 10 <= summary.sent < 100
    assert summary.sent + summary.skipped == 100
