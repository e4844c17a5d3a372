"""/metrics' database figures mid-broadcast (issue 11: "answering with the right states"):
the queue depth and each running broadcast's progress, not only the idle zeros."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.ops_metrics import database_families
from db.engine import SessionFactory
from db.models import Broadcast, BroadcastSource, BroadcastStatus, Delivery, DeliveryStatus, Group
from scheduler.clock import FixedClock
from tests.scheduler.fakes import add_groups


def _samples(families: list[Any]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families
        for s in family.samples
    }


async def _broadcast(
    sessions: SessionFactory, clock: FixedClock, status: BroadcastStatus, outcomes: list[str]
) -> int:
    now = clock.now()
    async with sessions.begin() as session:
        broadcast = Broadcast(
            source=BroadcastSource.LIBRARY,
            message_key="h.tps_buka",
            audience="all",
            scheduled_at=now,
            status=status,
            created_at=now,
        )
        session.add(broadcast)
        await session.flush()
        groups = (await session.scalars(select(Group).order_by(Group.id))).all()
        for group, outcome in zip(groups, outcomes, strict=False):
            session.add(
                Delivery(
                    broadcast_id=broadcast.id,
                    group_id=group.id,
                    chat_id=group.chat_id,
                    status=DeliveryStatus(outcome),
                    created_at=now,
                    updated_at=now,
                )
            )
        return broadcast.id


async def test_queue_depth_and_progress_while_a_broadcast_runs(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    await add_groups(sessions, 4)
    running = await _broadcast(
        sessions, clock, BroadcastStatus.RUNNING, ["sent", "failed", "pending", "sending"]
    )
    done = await _broadcast(sessions, clock, BroadcastStatus.DONE, ["sent", "sent", "skipped"])
    async with sessions() as session:
        samples = _samples(await database_families(session))
    assert samples["kentongan_queue_depth", ()] == 2  # the running one's pending and sending
    progress = {labels: v for (name, labels), v in samples.items() if "progress" in name}
    assert progress == {(("broadcast", str(running)),): 0.5}  # a finished one is not listed
    assert str(done) not in str(progress)
    outcomes = {
        dict(labels)["outcome"]: v
        for (name, labels), v in samples.items()
        if name == "kentongan_deliveries"
    }
    assert outcomes == {"sent": 3, "failed": 1, "pending": 1, "sending": 1, "skipped": 1}
