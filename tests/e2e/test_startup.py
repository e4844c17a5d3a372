"""The bot starts against the local server as it would against Telegram."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import Broadcast, BroadcastStatus
from tests.e2e.harness import ADMIN_ID, Harness


async def test_startup_calls_and_state(kentongan: Harness) -> None:
    methods = [c.method for c in kentongan.server.calls]
    assert "getMe" in methods and "getUpdates" in methods
    scopes = {
        c.params.get("scope", {}).get("type") for c in kentongan.server.calls_to("setMyCommands")
    }
    assert scopes == {"all_private_chats", "all_group_chats", "all_chat_administrators", "chat"}
    official = [
        c for c in kentongan.server.calls_to("setMyCommands") if c.params["scope"]["type"] == "chat"
    ]
    assert [c.params["scope"]["chat_id"] for c in official] == [ADMIN_ID]
    async with kentongan.services.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Broadcast))
        statuses = dict(
            (await session.execute(select(Broadcast.timeline_key, Broadcast.status))).all()
        )
    assert count and count >= 8
    # 08.00 on H-2: the first reminders (07.00 masa tenang, 08.00 netralitas) were due and ran
    # at start (no groups yet); the rest wait.
    assert statuses.pop("pilkada-2024-kota-malang:h2-masa-tenang") is BroadcastStatus.DONE
    assert statuses.pop("pilkada-2024-kota-malang:h2-netralitas") is BroadcastStatus.DONE
    assert set(statuses.values()) == {BroadcastStatus.SCHEDULED}
    # The only refusal: the official has not opened the bot yet, so their chat does not exist.
    failed = [c for c in kentongan.server.calls if not c.ok]
    assert failed == official and "chat not found" in str(official[0].result)


async def test_every_command_telegram_lists_has_a_handler(kentongan: Harness) -> None:
    """A command in a list Telegram shows but handled by nobody would fall to the catch-all."""
    from telegram.ext import CommandHandler

    handled = {
        command
        for group in kentongan.app.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    listed = {
        command["command"]
        for call in kentongan.server.calls_to("setMyCommands")
        for command in call.params["commands"]
    }
    assert listed and listed <= handled, sorted(listed - handled)
