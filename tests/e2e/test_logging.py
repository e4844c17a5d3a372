"""At LOG_LEVEL=DEBUG a whole flow logs no token and no NIK, from any library."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import NUMBER_MASK, TOKEN_MASK, configure_logging, redact
from tests.e2e.harness import running_kentongan
from tests.e2e.test_acks import THANKS, group_in_world, press_ack, register, send_broadcast

NIK = "3573051234567890"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The bot's own log handler (as `python -m bot` installs it) at DEBUG, into a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("DEBUG", stream=stream)
    yield stream
    root.removeHandler(handler)
    handler.close()
    root.setLevel(level)
    configure_logging_levels_back()


def configure_logging_levels_back() -> None:
    for name in ("httpx", "httpcore", "alembic", "apscheduler", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.both_transports
async def test_debug_log_of_a_full_flow_has_no_token_and_no_nik(
    tmp_path: Path, captured: io.StringIO, transport: str
) -> None:
    async with running_kentongan(tmp_path, transport=transport) as h:
        # The handler was not even told the token: its shape alone is enough to mask it.
        token = h.settings.token
        leader, warga = h.world.add_user("Pak RW"), h.world.add_user("Bu Warga")
        chat = group_in_world(h, "RW 05 Sumbersari", admins=[leader], members=[warga])
        await register(h, chat, "35.73.05.1005", rw=5)
        broadcast_id = await send_broadcast(h)
        assert await press_ack(h, warga, chat, broadcast_id) == THANKS
        resident = h.world.add_user("Mas Pemilih", started=True)
        await h.say(resident, f"NIK saya {NIK} apakah terdaftar?")
    log = captured.getvalue()
    # DEBUG was on and libraries spoke: PTB's base URL line and the updates it received.
    assert "Set Bot API URL" in log, log[:2000]
    assert ("getUpdates" if transport == "polling" else "setWebhook") in log
    assert token not in log
    assert token.split(":", 1)[1] not in log
    assert TOKEN_MASK in log
    assert NIK not in log


def test_redact_masks_tokens_and_sixteen_digit_numbers() -> None:
    secret = "987654:short-but-secret"
    line = f"GET http://x/bot123456789:AAH{'x' * 30}/getMe {secret} nik 3573051234567890 id 123"
    out = redact(line, [secret])
    assert "AAH" not in out and secret not in out and "3573051234567890" not in out
    assert out.count(TOKEN_MASK) == 2 and NUMBER_MASK in out and "id 123" in out
    # Longer numbers (chat ids, update ids) are left alone.
    assert redact("chat -1002000000000 update 12345678901234567") == (
        "chat -1002000000000 update 12345678901234567"
    )


def test_json_format_and_traceback_redacted() -> None:
    stream = io.StringIO()
    handler = configure_logging("INFO", fmt="json", secrets=["42:topsecret-value"], stream=stream)
    try:
        logger = logging.getLogger("kentongan.test")
        try:
            raise RuntimeError("failed at http://api/bot42:topsecret-value/sendMessage")
        except RuntimeError:
            logger.exception("send failed for %s", "3573051234567890")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
        configure_logging_levels_back()
    entry = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert entry["level"] == "ERROR" and entry["logger"] == "kentongan.test"
    assert entry["message"] == f"send failed for {NUMBER_MASK}"
    assert "topsecret" not in entry["exc"] and "RuntimeError" in entry["exc"]


async def test_info_log_has_no_message_texts(tmp_path: Path) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("INFO", stream=stream)
    try:
        async with running_kentongan(tmp_path) as h:
            resident = h.world.add_user("Mas Pemilih", started=True)
            await h.say(resident, "kapan coblosan di kelurahan Sumbersari, pak?")
            await h.say(resident, "/privasi")
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(level)
        configure_logging_levels_back()
    log = stream.getvalue()
    assert "timeline:" in log  # INFO lines were written
    assert "coblosan" not in log and "Sumbersari, pak" not in log and "Privasi" not in log
