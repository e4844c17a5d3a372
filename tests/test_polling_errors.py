"""Polling errors are logged by kind at a bounded rate; Conflict once, with what to do."""

from __future__ import annotations

import json
import logging

import pytest
from telegram.error import Conflict, NetworkError

from bot.updates import PollingErrors, SkippingUpdatesRequest


def test_conflict_is_logged_once_with_advice(caplog: pytest.LogCaptureFixture) -> None:
    errors = PollingErrors()
    with caplog.at_level(logging.WARNING, logger="bot.updates"):
        for _ in range(50):
            errors(Conflict("Conflict: terminated by other getUpdates request"))
            errors(NetworkError("Connect call failed"))
    lines = [r.getMessage() for r in caplog.records]
    assert sum("another program is fetching updates" in line for line in lines) == 1
    assert any("@BotFather" in line for line in lines)
    assert sum("polling for updates failed" in line for line in lines) == 1
    assert errors.conflicts == 50


def test_unreadable_updates_become_bare_ids_and_readable_ones_stay() -> None:
    request = SkippingUpdatesRequest()
    payload = (
        b'{"ok":true,"result":[{"update_id":1,"message":{"message_id":"x","chat":{}}},'
        b'{"update_id":2},"garbage"]}'
    )
    cleaned = json.loads(request.sanitize(payload))
    assert cleaned["result"] == [{"update_id": 1}, {"update_id": 2}]
    assert request.skipped == 2
    assert request.sanitize(b'{"ok":true,"result":[{"update_id":3}]}') == (
        b'{"ok":true,"result":[{"update_id":3}]}'
    )
