"""Flood limits under load, and injected faults, as python-telegram-bot experiences them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from sandbox import BotApiServer, Fault, Latency, Limits, SandboxConfig
from sandbox.limits import FloodControl
from sandbox.testing import running_server

from .helpers import FakeClock, call


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns on int periods unless opted in to timedelta, and warnings are errors here.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


def test_private_chat_allows_a_short_burst_then_one_per_second() -> None:
    clock = FakeClock()
    flood = FloodControl(Limits(), clock)
    assert [flood.check(1, is_private=True) for _ in range(3)] == [0, 0, 0]
    assert flood.check(1, is_private=True) == 1
    clock.now += 1.0
    assert flood.check(1, is_private=True) == 0
    assert flood.check(1, is_private=True) == 1


def test_group_allows_20_per_minute() -> None:
    clock = FakeClock()
    flood = FloodControl(Limits(), clock)
    assert all(flood.check(-5, is_private=False) == 0 for _ in range(20))
    assert flood.check(-5, is_private=False) == 3  # one more token after 60/20 seconds
    clock.now += 3.0
    assert flood.check(-5, is_private=False) == 0


def test_global_30_per_second_and_paid_broadcasts() -> None:
    clock = FakeClock()
    flood = FloodControl(Limits(), clock)
    assert all(flood.check(uid, is_private=True) == 0 for uid in range(1, 31))
    assert flood.check(31, is_private=True) == 1
    assert flood.check(31, is_private=True, paid=True) == 0
    paid = FloodControl(Limits(allow_paid_broadcast=True), clock)
    assert all(paid.check(uid, is_private=True) == 0 for uid in range(1, 1001))
    assert paid.check(5000, is_private=True) == 1


def test_limits_can_be_turned_off() -> None:
    flood = FloodControl(Limits.off(), FakeClock())
    assert all(flood.check(1, is_private=True) == 0 for _ in range(1000))


async def test_429_with_retry_after_under_load(bot_api_server: BotApiServer) -> None:
    # A stopped clock: however slowly this machine serves the burst, no token refills meanwhile.
    bot_api_server.flood = FloodControl(Limits(), clock=lambda: 1000.0)
    world = bot_api_server.world
    users = [world.add_user(f"Warga {i}", started=True) for i in range(40)]
    results = await asyncio.gather(
        *(call(bot_api_server, "sendMessage", chat_id=u.id, text="Besok coblosan") for u in users)
    )
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 30
    refused = [body for status, body in results if status == 429]
    assert len(refused) == 10
    assert refused[0] == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert len(bot_api_server.calls_to("sendMessage")) == 40


async def test_429_in_one_group_reaches_ptb_as_retry_after(
    bot_api_server: BotApiServer, ptb_bot: Bot
) -> None:
    bot_api_server.flood = FloodControl(Limits(), clock=lambda: 1000.0)
    world = bot_api_server.world
    siti = world.add_user("Siti")
    group = world.add_group("RT 05", admins=[siti])
    world.add_bot_to_group(group, by=siti)
    for i in range(20):
        await ptb_bot.send_message(group.id, f"pesan {i}")
    with pytest.raises(RetryAfter) as caught:
        await ptb_bot.send_message(group.id, "satu lagi")
    assert caught.value.retry_after == timedelta(seconds=3)


async def test_injected_faults_become_ptb_errors(bot_api_server: BotApiServer) -> None:
    world = bot_api_server.world
    siti = world.add_user("Siti", started=True)
    request = HTTPXRequest(read_timeout=0.3, connect_timeout=1)
    bot = Bot(bot_api_server.token, base_url=bot_api_server.api_url, request=request)
    async with bot:
        bot_api_server.add_fault(Fault("retry_after", method="sendMessage", retry_after=7, times=1))
        with pytest.raises(RetryAfter) as retry:
            await bot.send_message(siti.id, "x")
        assert retry.value.retry_after == timedelta(seconds=7)

        bot_api_server.add_fault(Fault("server_error", method="sendMessage", times=1))
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(siti.id, "x")

        bot_api_server.add_fault(Fault("drop", method="sendMessage", times=1))
        with pytest.raises(NetworkError) as dropped:
            await bot.send_message(siti.id, "x")
        assert not isinstance(dropped.value, TimedOut)

        bot_api_server.add_fault(Fault("timeout", method="sendMessage", hold_seconds=1, times=1))
        with pytest.raises(TimedOut):
            await bot.send_message(siti.id, "x")

        # No fault left: the next send goes through, and nothing above took effect.
        await bot.send_message(siti.id, "akhirnya")
    assert [m.text for m in world.messages_in(siti)] == ["akhirnya"]
    assert [c.status for c in bot_api_server.calls_to("sendMessage")] == [429, 502, 0, 499, 200]


async def test_a_lost_answer_after_the_message_was_sent(bot_api_server: BotApiServer, ptb_bot: Bot):
    siti = bot_api_server.world.add_user("Siti", started=True)
    bot_api_server.add_fault(Fault("drop", method="sendMessage", after_processing=True, times=1))
    with pytest.raises(NetworkError):
        await ptb_bot.send_message(siti.id, "terkirim tapi jawabannya hilang")
    assert [m.text for m in bot_api_server.messages_in(siti)] == ["terkirim tapi jawabannya hilang"]


async def test_faults_per_chat(bot_api_server: BotApiServer, ptb_bot: Bot):
    world = bot_api_server.world
    siti, budi = world.add_user("Siti", started=True), world.add_user("Budi", started=True)
    bot_api_server.add_fault(
        Fault("server_error", chat_id=budi.id, status=500, description="Internal Server Error")
    )
    await ptb_bot.send_message(siti.id, "ok")
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await ptb_bot.send_message(budi.id, "gagal")


async def test_latency_is_applied(bot_api_server: BotApiServer, ptb_bot: Bot):
    siti = bot_api_server.world.add_user("Siti", started=True)
    bot_api_server.set_latency(Latency.fixed(120))
    held: list[tuple[float, int]] = []  # (seconds, messages stored when the hold began)

    async def sleep(seconds: float) -> None:
        held.append((seconds, len(bot_api_server.messages_in(siti))))

    bot_api_server.sleep = sleep
    await ptb_bot.send_message(siti.id, "pelan")
    # The answer was held 120 ms before the message was even handled.
    assert held == [(0.12, 0)]
    assert [m.text for m in bot_api_server.messages_in(siti)] == ["pelan"]


async def _random_fault_pattern(seed: int) -> list[int]:
    config = SandboxConfig(
        limits=Limits.off(),
        seed=seed,
        faults=[Fault("server_error", method="getMe", probability=0.5)],
    )
    async with running_server(config) as server:
        return [(await call(server, "getMe"))[0] for _ in range(24)]


async def test_random_faults_are_deterministic_from_the_seed():
    first = await _random_fault_pattern(7)
    assert first == await _random_fault_pattern(7)
    assert 0 < first.count(502) < 24
    assert first != await _random_fault_pattern(8)


def test_latency_distributions():
    import random

    rng = random.Random(1)
    assert Latency.fixed(50).sample_seconds(rng) == 0.05
    samples = [Latency.uniform(10, 20).sample_seconds(rng) for _ in range(200)]
    assert min(samples) >= 0.01 and max(samples) <= 0.02
    normal = [Latency.normal(150, 10).sample_seconds(rng) for _ in range(500)]
    assert 0.14 < sum(normal) / len(normal) < 0.16


async def test_bad_request_reaches_ptb(ptb_bot: Bot):
    with pytest.raises(BadRequest, match="Chat not found"):
        await ptb_bot.send_message(123, "x")
