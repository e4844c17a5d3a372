"""Telegram's errors, injected by the local Bot API server, handled by type in the engine."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import (
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Group,
    GroupLevel,
)
from sandbox import Fault
from scheduler.engine_config import EngineConfig
from scheduler.ratelimit import TELEGRAM
from tests.e2e.harness import Harness, running_kentongan
from tests.scheduler.fakes import custom_broadcast


async def _broadcast(h: Harness, text: str = "<b>TPS sudah buka</b>") -> int:
    now = h.clock.now()
    async with h.services.sessions.begin() as session:
        broadcast = custom_broadcast(now, text)
        session.add(broadcast)
    return broadcast.id


async def _ledger(h: Harness, broadcast_id: int) -> dict[int, tuple[Delivery, Group]]:
    async with h.services.sessions() as session:
        rows = (
            await session.execute(
                select(Delivery, Group)
                .join(Group, Group.id == Delivery.group_id)
                .where(Delivery.broadcast_id == broadcast_id)
            )
        ).all()
    return {group.id: (delivery, group) for delivery, group in rows}


async def test_each_telegram_error_from_the_server(kentongan: Harness) -> None:
    h = kentongan
    # The timeline's own first reminder is due at this clock; let it go out to nobody first.
    await h.run_due()
    ok, limited, flaky, kicked, basic, gone = await h.registered_groups(6)
    # A basic group that will be upgraded to a supergroup behind the bot's back.
    basic_group = h.world.add_group("RW 05 basic", "group", admins=[h.world.add_user("Ketua")])
    basic_group.bot_member = kicked.bot_member
    async with h.services.sessions.begin() as session:
        row = await session.scalar(select(Group).where(Group.chat_id == basic.id))
        assert row is not None
        row.chat_id = basic_group.id
        # A group whose chat no longer exists at Telegram.
        gone_row = await session.scalar(select(Group).where(Group.chat_id == gone.id))
        assert gone_row is not None
        gone_row.chat_id = -987654321
    new_chat = h.world.migrate_to_supergroup(basic_group)
    h.world.kick_bot(kicked)
    h.server.add_fault(
        Fault("retry_after", method="sendMessage", chat_id=limited.id, times=1, retry_after=1)
    )
    h.server.add_fault(Fault("server_error", method="sendMessage", chat_id=flaky.id, times=2))

    broadcast_id = await _broadcast(h)
    (summary,) = await h.run_due()
    assert summary.status is BroadcastStatus.DONE

    ledger = await _ledger(h, broadcast_id)
    by_chat = {g.chat_id: (d, g) for d, g in ledger.values()}
    assert by_chat[ok.id][0].status is DeliveryStatus.SENT
    assert by_chat[limited.id][0].status is DeliveryStatus.SENT
    assert by_chat[flaky.id][0].status is DeliveryStatus.SENT
    assert by_chat[flaky.id][0].attempts == 3
    # Kicked: the bot saw the my_chat_member update (group inactive, not targeted) or got 403.
    if kicked.id in by_chat:
        delivery, group = by_chat[kicked.id]
        assert delivery.status is DeliveryStatus.FAILED and not group.active
        assert "kicked" in (delivery.last_error or "")
    # Migrated: the group now lives under the supergroup's id and got the message there.
    delivery, group = by_chat[new_chat.id]
    assert delivery.status is DeliveryStatus.SENT and group.migrated_from_chat_id == basic_group.id
    assert any(m.buttons() for m in h.world.bot_messages(new_chat))
    # Chat not found: failed, and the group is inactive.
    delivery, group = by_chat[-987654321]
    assert delivery.status is DeliveryStatus.FAILED and not group.active
    assert "chat not found" in (delivery.last_error or "").lower()
    statuses = [c.status for c in h.server.calls_to("sendMessage")]
    assert 429 in statuses and 502 in statuses and 400 in statuses


async def test_bad_html_fails_with_telegrams_reason_and_is_not_retried(
    kentongan: Harness,
) -> None:
    h = kentongan
    await h.run_due()
    (group,) = await h.registered_groups(1)
    broadcast_id = await _broadcast(h, text="<b>TPS buka</i>")
    before = len(h.server.calls_to("sendMessage"))
    await h.run_due()
    ((delivery, _),) = (await _ledger(h, broadcast_id)).values()
    assert delivery.status is DeliveryStatus.FAILED
    assert "can't parse entities" in (delivery.last_error or "").lower()
    assert len(h.server.calls_to("sendMessage")) == before + 1
    assert h.world.bot_messages(group) == []


async def test_per_group_limit_respected_when_broadcasts_overlap(kentongan: Harness) -> None:
    """Three broadcasts to the same groups at once: no group gets more than 20 a minute."""
    h = kentongan
    await h.run_due()
    await h.registered_groups(3, level=GroupLevel.RT)
    ids = [await _broadcast(h, text=f"<b>Pengumuman {i}</b>") for i in range(3)]
    summaries = await h.run_due()
    assert [s.sent for s in summaries] == [3, 3, 3]
    assert all(c.status != 429 for c in h.server.calls_to("sendMessage"))
    assert len(ids) == 3


@pytest.mark.long
async def test_telegram_unreachable_mid_broadcast_loses_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    """The whole server unreachable for a while: one pause, probes, resume; 0 lost, 0 twice."""
    engine = EngineConfig(rate=TELEGRAM.broadcast_rate(), workers=8, probe_max=1.0)
    async with running_kentongan(tmp_path, engine=engine) as h:
        await h.run_due()
        admin = h.admin()
        chats = await h.registered_groups(120)
        broadcast_id = await _broadcast(h)

        def delivered() -> Counter[int]:
            return Counter(c.id for c in chats for m in h.world.bot_messages(c) if m.buttons())

        running = asyncio.create_task(h.run_due())
        await h.server.wait_until(lambda: sum(delivered().values()) >= 30, timeout=30)
        down = h.server.add_fault(Fault("drop"))  # every method: connections refused mid-way
        await h.server.wait_until(lambda: h.services.broadcasts.paused, timeout=30)
        # Probes fail for a while (one at a time, not every worker).
        breaker = h.services.broadcasts.breaker
        await h.server.wait_until(lambda: breaker.open_for >= 3.0, timeout=30)
        probes = down.fired
        at_outage = sum(delivered().values())
        h.server.faults.clear()
        (summary,) = await asyncio.wait_for(running, 60)

        assert summary.status is BroadcastStatus.DONE
        assert summary.sent == 120 and summary.failed == 0, summary
        counts = delivered()
        assert sorted(counts.values()) == [1] * 120  # 0 lost, 0 duplicated
        assert at_outage < 120, "the outage came too late to prove anything"
        assert not h.services.broadcasts.paused and h.services.broadcasts.breaker.outages == 1

        # Officials: told once that sending paused, once that it resumed.
        def told() -> list[str]:
            return [m.text or "" for m in h.world.bot_messages(admin)]

        resumed = "Pengiriman siaran dilanjutkan"
        await h.server.wait_until(lambda: any(resumed in t for t in told()), timeout=30)
        assert sum("Pengiriman siaran dijeda" in t for t in told()) == 1
        assert sum(resumed in t for t in told()) == 1
        assert probes < 40  # not every delivery hammering a dead server
        ledger = await _ledger(h, broadcast_id)
        assert {d.status for d, _ in ledger.values()} == {DeliveryStatus.SENT}


async def test_an_update_the_client_cannot_parse_is_skipped_once(
    kentongan: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = kentongan
    resident = h.world.add_user("Warga", started=True)
    # What a Bot API server newer than the pinned client may send: PTB cannot build it.
    bad = h.world.push_update(
        "message", {"message_id": "x", "date": "kemarin", "chat": {"type": "private"}}
    )
    with caplog.at_level(logging.WARNING, logger="bot.updates"):
        reply = await h.say(resident, "/start")
    assert reply.text  # the bot goes on answering people
    fetched = [
        c
        for c in h.server.calls_to("getUpdates")
        if any(u.get("update_id") == bad["update_id"] for u in c.result or [])
    ]
    assert len(fetched) == 1  # confirmed with the next offset: never fetched again
    lines = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(lines) == 1
    assert str(bad["update_id"]) in lines[0] and "kemarin" not in lines[0]


@pytest.mark.long
async def test_a_press_is_answered_ahead_of_a_surge_of_residents_questions(
    kentongan: Harness,
) -> None:
    """Questions wait on the reply limiter holding the update slots; presses do not queue."""
    h = kentongan
    await h.run_due()
    (group,) = await h.registered_groups(1, members=1)
    await _broadcast(h)
    await h.run_due()
    message = next(m for m in h.world.bot_messages(group) if m.buttons())
    member = next(u for u in group.members.values() if not u.user.is_bot and u.status == "member")
    residents = [h.world.add_user(f"Warga {i}", started=True) for i in range(100)]
    for _ in range(3):
        for resident in residents:
            h.world.user_sends(resident, None, "kapan hari pencoblosan?")
    questions = 3 * len(residents)

    def replies() -> int:
        return sum(len(h.world.bot_messages(r)) for r in residents)

    # The surge is being worked on: the limiter holds the slots.
    await h.server.wait_until(lambda: replies() >= 5, timeout=30)
    query_id = h.world.press_button(
        member.user, group, message.message_id, message.buttons()[0]["callback_data"]
    )
    await h.server.wait_for_callback_answer(query_id, timeout=15)
    answered_after = replies()
    # Answered while most questions still wait for their reply, not after all of them.
    assert answered_after < questions // 2, (answered_after, questions)
    await h.server.wait_until(lambda: replies() >= questions, timeout=60)
