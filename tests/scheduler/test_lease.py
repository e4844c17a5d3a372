"""The instance lease: one holder; a standby takes it only once it has run out."""

from __future__ import annotations

from datetime import timedelta

from db.engine import SessionFactory
from scheduler.clock import FixedClock
from scheduler.lease import InstanceLease


async def test_one_holder_and_takeover_after_expiry(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    active = InstanceLease(sessions, "active", ttl=10, clock=clock)
    standby = InstanceLease(sessions, "standby", ttl=10, clock=clock)
    assert await active.try_acquire() is None and active.held
    holder = await standby.try_acquire()
    assert holder is not None and holder.holder == "active" and not standby.held
    assert holder.acquired_at == clock.now()

    clock.advance(timedelta(seconds=8))
    assert await active.renew()  # a live holder keeps it past its first ten seconds
    clock.advance(timedelta(seconds=8))
    assert await standby.try_acquire() is not None

    clock.advance(timedelta(seconds=11))  # the holder died: no renewal for longer than ttl
    assert await standby.try_acquire() is None and standby.held
    assert not await active.renew() and not active.held  # fenced: it must stop sending
    other = await active.try_acquire()
    assert other is not None and other.holder == "standby"


async def test_release_hands_over_at_once(sessions: SessionFactory, clock: FixedClock) -> None:
    active = InstanceLease(sessions, "active", clock=clock)
    standby = InstanceLease(sessions, "standby", clock=clock)
    assert await active.try_acquire() is None
    await active.release()
    assert await standby.try_acquire() is None
