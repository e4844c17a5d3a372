"""The settings file holds the bot token: the bot says so when others can read it (issue 11)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.cli import warn_if_env_file_is_open


def test_a_world_readable_env_file_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = tmp_path / ".env"
    env.write_text("TELEGRAM_BOT_TOKEN=1:x\n", encoding="utf-8")
    env.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="kentongan"):
        assert warn_if_env_file_is_open(env)
    (record,) = caplog.records
    assert "chmod 600" in record.getMessage() and "644" in record.getMessage()
    assert "1:x" not in record.getMessage()


def test_a_private_or_missing_env_file_is_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = tmp_path / ".env"
    env.write_text("TELEGRAM_BOT_TOKEN=1:x\n", encoding="utf-8")
    env.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="kentongan"):
        assert not warn_if_env_file_is_open(env)
        assert not warn_if_env_file_is_open(tmp_path / "missing.env")
    assert caplog.records == []
