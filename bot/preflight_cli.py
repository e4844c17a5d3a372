"""`python -m bot preflight`: ask Telegram about every registered group before a broadcast.

    python -m bot preflight [--rate 25]

Prints the reach of the next broadcast and the groups it will miss, per kelurahan. Groups that
became supergroups are moved to their new id; groups with the bot out are deactivated.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.http_sender import broadcast_bot
from bot.preflight import BotProber
from bot.settings import Settings, SettingsError, load_settings
from bot.storage import open_storage
from domain import preflight
from domain.reach import reach, reach_text
from election.profile import load_profile
from messages.telegram_html import visible_text
from scheduler.clock import SystemClock


async def check(settings: Settings, rate: float) -> str:
    """Run the pre-flight and return the officials' text (HTML)."""
    clock = SystemClock()
    profile = load_profile(settings.election_profile)
    engine, sessions = await open_storage(settings.database_url, settings.admin_ids, clock.now())
    bot = broadcast_bot(
        settings.token, settings.telegram_base_url, settings.base_file_url, preflight.WORKERS
    )
    try:
        async with bot:
            run = await preflight.run_preflight(sessions, BotProber(bot), clock.now, rate=rate)
        async with sessions() as session:
            result = await reach(session)
        print(
            f"{len(run.findings)} grup, {run.calls} panggilan, {run.retry_after}x 429",
            file=sys.stderr,
        )
        return reach_text(result, profile, clock.now(), limit=10_000, fit=False)
    finally:
        await engine.dispose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot preflight", description=__doc__)
    parser.add_argument(
        "--rate", type=float, default=preflight.DEFAULT_RATE, help="Telegram calls per second"
    )
    args = parser.parse_args(argv)
    if not 0 < args.rate <= 30:
        print("kentongan: --rate harus antara 0 dan 30 panggilan per detik.", file=sys.stderr)
        return 2
    try:
        text = asyncio.run(check(load_settings(), args.rate))
    except SettingsError as exc:
        print(f"kentongan: {exc}", file=sys.stderr)
        return 2
    print(visible_text(text))
    return 0
