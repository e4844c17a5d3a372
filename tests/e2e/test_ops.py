"""Webhook mode's server, /healthz, /metrics and errors told to the root admins."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import Update
from telegram.ext import CommandHandler

from bot.ops import TELEGRAM_STALE, LeaseStatus, Ops, ops_of
from bot.ops_errors import ERROR_WINDOW
from bot.webhook import SECRET_HEADER
from db.engine import create_engine, create_session_factory
from sandbox import Fault, Limits, SandboxConfig
from tests.e2e.harness import WEBHOOK_SECRET, Harness, free_port, running_kentongan
from tests.e2e.test_acks import THANKS, group_in_world, press_ack, register, send_broadcast


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _ops(h: Harness) -> Ops:
    ops = ops_of(h.app)
    assert ops is not None
    return ops


def _update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    person = {"id": user_id, "is_bot": False, "first_name": "Warga"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Warga"},
            "from": person,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics:\n{text}")


@pytest.fixture
async def webhook_bot(tmp_path: Path) -> Any:
    async with running_kentongan(tmp_path, transport="webhook") as harness:
        yield harness


async def test_webhook_mode_sets_the_webhook_and_checks_the_secret(webhook_bot: Harness) -> None:
    h = webhook_bot
    (call,) = h.server.calls_to("setWebhook")
    assert call.params["secret_token"] == WEBHOOK_SECRET
    assert set(call.params["allowed_updates"]) == set(Update.ALL_TYPES)
    assert call.params.get("drop_pending_updates") in (None, False)
    url = h.settings.webhook_url
    payload = _update(10**9, 4242, "/privasi")
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {SECRET_HEADER: "salah"}, {SECRET_HEADER: WEBHOOK_SECRET[:-1]}):
            async with session.post(url, json=payload, headers=headers) as response:
                assert response.status == 403
        async with session.post(
            url, data="bukan json", headers={SECRET_HEADER: WEBHOOK_SECRET}
        ) as r:
            assert r.status == 400
    assert h.server.calls_to("getUpdates") == []
    # Registration, broadcast and acks in webhook mode: tests marked both_transports.


async def test_a_redelivered_update_is_processed_once(webhook_bot: Harness) -> None:
    h = webhook_bot
    person = h.world.add_user("Warga Ganda", started=True)
    url, headers = h.settings.webhook_url, {SECRET_HEADER: WEBHOOK_SECRET}
    first, other = (
        _update(2 * 10**9, person.id, "/privasi"),
        _update(2 * 10**9 + 1, person.id, "/kapan"),
    )
    async with aiohttp.ClientSession() as session:
        for payload in (first, first):  # Telegram resends when its first attempt timed out
            async with session.post(url, json=payload, headers=headers) as response:
                assert response.status == 200
        await h.server.wait_for_message(person, lambda m: "Privasi" in (m.text or ""))
        async with session.post(url, json=other, headers=headers) as response:
            assert response.status == 200
    await h.server.wait_for_message(person, lambda m: "Privasi" not in (m.text or ""))
    texts = [m.text or "" for m in h.world.bot_messages(person)]
    assert sum("Privasi" in t for t in texts) == 1, texts
    assert _ops(h).registry.get_sample_value("kentongan_webhook_duplicates_total") == 1


async def test_healthz_says_which_check_fails(webhook_bot: Harness) -> None:
    h = webhook_bot
    ops = _ops(h)
    base = h.settings.webhook_url.rsplit("/", 1)[0]
    status, body = await _get(f"{base}/healthz")
    assert status == 200, body
    assert body.startswith("OK") and "database: ok" in body and "telegram: ok" in body
    assert "lease: ok: no lease configured" in body

    ops.lease = lambda: LeaseStatus(held=False, standby_ok=True, detail="standby of instance A")
    status, body = await _get(f"{base}/healthz")
    assert status == 200 and "lease: ok: standby of instance A" in body
    ops.lease = lambda: LeaseStatus(held=False, detail="lease lost")
    status, body = await _get(f"{base}/healthz")
    assert status == 503 and "lease: FAIL: lease lost" in body
    ops.lease = lambda: LeaseStatus(held=True)

    clock = FakeMonotonic()
    ops.monotonic = clock
    ops.telegram_ok()
    clock.now += TELEGRAM_STALE + 1
    status, body = await _get(f"{base}/healthz")
    assert status == 503 and "telegram: FAIL: last contact 181 s ago" in body
    ops.telegram_ok()

    real = ops.sessions
    broken = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    ops.sessions = create_session_factory(broken)
    try:
        status, body = await _get(f"{base}/healthz")
    finally:
        ops.sessions = real
        await broken.dispose()
    assert status == 503 and "database: FAIL" in body and "telegram: ok" in body
    assert (await _get(f"{base}/healthz"))[0] == 200


async def test_metrics_count_sends_acks_and_updates(webhook_bot: Harness) -> None:
    h = webhook_bot
    leader, warga = h.world.add_user("Pak RW"), h.world.add_user("Bu Warga")
    chat = group_in_world(h, "RW 05 Sumbersari", admins=[leader], members=[warga])
    await register(h, chat, "35.73.05.1005", rw=5)
    broadcast_id = await send_broadcast(h)
    assert await press_ack(h, warga, chat, broadcast_id) == THANKS
    await h.server.wait_until(lambda: h.db_rows("SELECT count(*) FROM acknowledgements")[0][0] == 1)
    # The engine writes send results in batches (the press can come first), and a timeline
    # reminder due on the test clock may reach the group too: compare with what is stored.
    await h.server.wait_until(
        lambda: (
            h.db_rows("SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending')")[0][
                0
            ]
            == 0
            and h.db_rows("SELECT count(*) FROM deliveries WHERE status = 'sent'")[0][0] >= 1
        )
    )
    sent = h.db_rows("SELECT count(*) FROM deliveries WHERE status = 'sent'")[0][0]
    base = h.settings.webhook_url.rsplit("/", 1)[0]
    status, text = await _get(f"{base}/metrics")
    assert status == 200
    assert f'kentongan_deliveries{{outcome="sent"}} {float(sent)}' in text
    assert 'kentongan_deliveries{outcome="failed"} 0.0' in text
    assert "kentongan_acks 1.0" in text and "kentongan_queue_depth 0.0" in text
    assert "kentongan_engine_paused 0.0" in text
    assert _metric(text, "kentongan_update_seconds_count") >= 1
    assert 'kentongan_updates_total{transport="webhook"}' in text
    assert "kentongan_telegram_429_total{" not in text  # no 429 from any request
    assert "kentongan_instance_active 1.0" in text


async def test_polling_mode_has_its_own_ops_port(tmp_path: Path) -> None:
    port = free_port()
    async with running_kentongan(tmp_path, ops_port=port):
        status, body = await _get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and "database: ok" in body
        status, text = await _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and "kentongan_acks 0.0" in text


async def test_unhandled_errors_reach_root_admins_once_per_kind_per_window(
    kentongan: Harness,
) -> None:
    h = kentongan
    ops = _ops(h)
    clock = FakeMonotonic()
    ops.monotonic = clock
    admin = h.admin()

    async def boom(_update: object, _context: object) -> None:
        raise RuntimeError("gagal untuk NIK 3573051234567890 milik Siti")

    h.app.add_handler(CommandHandler("uji_galat", boom), group=-50)
    siti = h.world.add_user("Siti Rahasia", started=True)

    def reports() -> list[str]:
        return [m.text or "" for m in h.world.bot_messages(admin) if "Galat" in (m.text or "")]

    h.world.user_sends(siti, None, "/uji_galat")
    await h.server.wait_until(lambda: len(reports()) == 1 or None)
    (report,) = reports()
    assert (
        "RuntimeError di boom (test_ops.py)" in report
        and "Kejadian sejak laporan terakhir: 1" in report
    )
    assert "3573051234567890" not in report and "Siti" not in report and "NIK" not in report

    for _ in range(2):  # inside the window: counted, not reported
        h.world.user_sends(siti, None, "/uji_galat")
    await h.server.wait_until(
        lambda: (
            ops.registry.get_sample_value(
                "kentongan_handler_errors_total", {"kind": "RuntimeError"}
            )
            == 3
            or None
        )
    )
    assert len(reports()) == 1
    clock.now += ERROR_WINDOW + 1
    h.world.user_sends(siti, None, "/uji_galat")
    await h.server.wait_until(lambda: len(reports()) == 2 or None)
    assert "Kejadian sejak laporan terakhir: 3" in reports()[1]


async def test_429s_and_send_answers_are_counted(tmp_path: Path) -> None:
    fault = Fault("retry_after", method="sendMessage", times=1, retry_after=1)
    config = SandboxConfig(limits=Limits(), faults=[fault])
    async with running_kentongan(tmp_path, sandbox=config) as h:
        leader = h.world.add_user("Pak RW")
        chat = group_in_world(h, "RW 05 Sumbersari", admins=[leader])
        await register(h, chat, "35.73.05.1005", rw=5)
        await send_broadcast(h)
        registry = _ops(h).registry
        assert fault.fired == 1
        broadcast = {"source": "broadcast", "method": "sendMessage"}
        assert registry.get_sample_value("kentongan_telegram_429_total", broadcast) == 1
        sent = registry.get_sample_value("kentongan_send_answers_total", {"outcome": "sent"})
        waits = registry.get_sample_value(
            "kentongan_send_answers_total", {"outcome": "retry_after"}
        )
        assert (sent, waits) == (1, 1)
        assert registry.get_sample_value("kentongan_engine_paused") == 0
        h.services.broadcasts.pacer.pause(60)  # as a 429 with retry_after=60 would
        assert registry.get_sample_value("kentongan_engine_paused") == 1


async def test_429s_of_replies_and_of_getupdates_are_counted_too(kentongan: Harness) -> None:
    """Not only broadcasts: a reply to a resident and the long poll meet 429s as well."""
    h = kentongan
    registry = _ops(h).registry
    warga = h.world.add_user("Warga", started=True)
    reply_fault = h.server.faults.add(
        Fault("retry_after", method="sendMessage", chat_id=warga.id, times=1, retry_after=1)
    )
    answer = await h.say(warga, "/kapan", timeout=15)
    assert answer.text and reply_fault.fired == 1
    reply = {"source": "bot", "method": "sendMessage"}
    assert registry.get_sample_value("kentongan_telegram_429_total", reply) == 1

    poll_fault = h.server.faults.add(
        Fault("retry_after", method="getUpdates", times=1, retry_after=1)
    )
    await h.server.wait_until(lambda: poll_fault.fired == 1 or None, timeout=20)
    answer = await h.say(warga, "/kapan", timeout=15)  # polling goes on after the wait
    assert answer.text
    updates = {"source": "updates", "method": "getUpdates"}
    assert registry.get_sample_value("kentongan_telegram_429_total", updates) == 1
    assert registry.get_sample_value("kentongan_telegram_429_total", reply) == 1
