"""The broadcast engine on a real SQLite file with a recording Sender."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
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
from scheduler.engine import UNREACHABLE_EXPIRED, BroadcastEngine
from scheduler.engine_config import EngineConfig
from scheduler.ledger import claim_next
from scheduler.preparation import BroadcastSummary
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


async def test_transient_errors_retry_until_expiry_then_fail_as_unreachable(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    """No per-delivery budget: Telegram unreachable is one outage, bounded by the expiry."""
    await add_groups(sessions, 3)
    paused: list[str] = []
    resumed: list[float] = []

    def script(message, nth):  # type: ignore[no-untyped-def]
        if len(sender.calls) == 3 * FAST.max_attempts + 10:
            clock.advance(timedelta(hours=3))  # past the broadcast's expiry
        return SendResult(Outcome.TRANSIENT, reason="NetworkError: Connect call failed")

    sender = RecordingSender(script=script)
    broadcast_id = await _broadcast(sessions, clock)
    engine = _engine(sessions, clock, sender, config=_fast_breaker())

    async def on_paused() -> None:
        paused.append("paused")

    async def on_resumed(seconds: float) -> None:
        resumed.append(seconds)

    engine.on_paused, engine.on_resumed = on_paused, on_resumed
    summary = await engine.run(broadcast_id)
    assert summary.status is BroadcastStatus.DONE and summary.failed == 3
    # Far more tries than the old budget of five each, and none failed before the expiry.
    assert len(sender.calls) >= 3 * FAST.max_attempts + 10
    for delivery in await _deliveries(sessions, broadcast_id):
        assert delivery.last_error == UNREACHABLE_EXPIRED
    await asyncio.sleep(0)  # the hook runs as its own task
    assert paused == ["paused"] and resumed == []


def _fast_breaker(**kw: object) -> EngineConfig:
    return EngineConfig(
        rate=5000,
        workers=8,
        backoff_base=0.001,
        backoff_max=0.01,
        breaker_threshold=4,
        probe_min=0.001,
        probe_max=0.01,
        **kw,  # type: ignore[arg-type]
    )


async def test_an_outage_pauses_everyone_once_and_resumes_where_it_stopped(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    chats = await add_groups(sessions, 60)
    down = {"on": False}
    events: list[str] = []

    def script(message, nth):  # type: ignore[no-untyped-def]
        calls = len(sender.calls)
        if calls == 20:
            down["on"] = True
        if down["on"] and calls >= 60:
            down["on"] = False  # the network is back after 40 failed tries
        if down["on"]:
            return SendResult(Outcome.TRANSIENT, reason="NetworkError: Connect call failed")
        return None

    sender = RecordingSender(script=script)
    broadcast_id = await _broadcast(sessions, clock)
    engine = _engine(sessions, clock, sender, config=_fast_breaker())

    async def on_paused() -> None:
        events.append("paused")

    async def on_resumed(seconds: float) -> None:
        events.append("resumed")

    engine.on_paused, engine.on_resumed = on_paused, on_resumed
    summary = await engine.run(broadcast_id)
    assert summary.status is BroadcastStatus.DONE and summary.sent == 60 and summary.failed == 0
    assert engine.breaker.outages == 1 and not engine.paused
    await asyncio.sleep(0)
    assert events == ["paused", "resumed"]
    sent = [d.chat_id for d in await _deliveries(sessions, broadcast_id)]
    assert sorted(sent) == sorted(chats)  # type: ignore[type-var]


async def test_a_long_outage_fails_nothing_of_a_broadcast_that_never_expires(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    """Probes during an outage spend no delivery's budget, however long it lasts."""
    await add_groups(sessions, 3)
    down = {"calls": 0}

    def script(message, nth):  # type: ignore[no-untyped-def]
        if down["calls"] < 20 * FAST.max_attempts:  # far more than five tries each
            down["calls"] += 1
            return SendResult(Outcome.TRANSIENT, reason="NetworkError: Connect call failed")
        return None

    sender = RecordingSender(script=script)
    broadcast_id = await _broadcast(sessions, clock, expires_in=None)
    # ~33 tries per group: Telegram's 20 a minute per group would make this a minute's wait.
    engine = _engine(sessions, clock, sender, config=_fast_breaker(per_chat_per_minute=10_000))
    summary = await engine.run(broadcast_id)
    assert summary.status is BroadcastStatus.DONE
    assert summary.sent == 3 and summary.failed == 0, summary
    assert engine.breaker.outages == 1


async def test_a_flood_of_429s_fails_nothing_before_the_expiry(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    """Telegram's "retry after" is a wait, not a failure: no per-delivery budget either."""
    chats = await add_groups(sessions, 2)
    waits = 3 * FAST.max_retry_after_waits

    def script(message, nth):  # type: ignore[no-untyped-def]
        if message.chat_id == chats[0] and nth <= waits:
            return SendResult(Outcome.RETRY_AFTER, retry_after=0.001, reason="429")
        return None

    sender = RecordingSender(script=script)
    broadcast_id = await _broadcast(sessions, clock)
    # 31 tries to one group: past Telegram's 20 a minute per group, which would wait a minute.
    config = replace(FAST, per_chat_per_minute=10_000)
    summary = await _engine(sessions, clock, sender, config=config).run(broadcast_id)
    assert summary.status is BroadcastStatus.DONE
    assert summary.sent == 2 and summary.failed == 0, summary
    assert sender.per_chat[chats[0]] == waits + 1


async def test_two_engines_on_one_database_send_each_group_once(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    """Compare-and-set claims: a second engine (a second copy of the bot) takes other rows."""
    chats = await add_groups(sessions, 200)
    broadcast_id = await _broadcast(sessions, clock)
    first, second = RecordingSender(delay=0.002), RecordingSender(delay=0.002)
    config = EngineConfig(rate=5000, workers=4, claim_batch=8)
    a = _engine(sessions, clock, first, config=config)
    b = _engine(sessions, clock, second, config=config)
    one, two = await asyncio.gather(a.run(broadcast_id), b.run(broadcast_id))
    sent = first.sent_chats() + second.sent_chats()
    assert sorted(sent) == sorted(chats)  # every group exactly once
    assert first.calls and second.calls  # both really took part
    assert BroadcastStatus.DONE in (one.status, two.status)
    # Told once: only the engine that finished the broadcast reports it.
    assert len(a.finished) + len(b.finished) == 1  # type: ignore[attr-defined]


async def test_a_running_broadcast_prepared_again_leaves_live_claims_alone(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    """Preparing a RUNNING broadcast (a second process starting) is not crash recovery."""
    chats = await add_groups(sessions, 10)
    broadcast_id = await _broadcast(sessions, clock)
    live = _engine(sessions, clock, RecordingSender())
    assert not isinstance(await live._prepare(broadcast_id), BroadcastSummary)
    taken = await claim_next(
        sessions,
        broadcast_id,
        4,
        holder=live.holder,
        now=clock.now(),
        lease_now=live.wall_clock.now(),
        ttl=60,
    )
    assert taken is not None and len(taken) == 4
    sender = RecordingSender()
    other = _engine(sessions, clock, sender, config=EngineConfig(rate=5000, claim_poll=0.01))
    running = asyncio.create_task(other.run(broadcast_id))
    await _until(lambda: len(sender.calls) == 6)
    assert not running.done()  # it waits for the live claims instead of re-sending them
    assert {c.chat_id for c in taken}.isdisjoint(sender.sent_chats())
    # The live engine finishes its four; the other then sees nothing open and ends.
    async with sessions.begin() as session:
        for item in taken:
            row = await session.get(Delivery, item.delivery_id)
            assert row is not None
            row.status, row.telegram_message_id = DeliveryStatus.SENT, 1
    summary = await asyncio.wait_for(running, 10)
    assert summary.status is BroadcastStatus.DONE and summary.sent == 10
    assert len(sender.calls) == 6 and set(sender.sent_chats()) < set(chats)


async def _until(condition, bound: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while not condition():
        assert loop.time() < deadline, "condition not met"
        await asyncio.sleep(0.01)


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


@pytest.mark.sqlite_only
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
