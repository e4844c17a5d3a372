"""`python -m bot …`: run the bot, migrate, check messages, start the local Bot API server."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.settings import Settings, SettingsError, load_settings
from election.profile import ProfileError

log = logging.getLogger("kentongan")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # httpx logs every request URL, and Telegram URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler logs every job add/run at INFO; our own lines say what matters.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.app import run_polling

    settings.token  # noqa: B018 - fails early with one clear line when the token is missing
    run_polling(settings)
    return 0


def _cmd_rehearse(settings: Settings, args: argparse.Namespace) -> int:
    from bot.rehearsal import RehearsalOptions, rehearse

    # The rehearsal prints its own progress; library chatter would drown it.
    logging.getLogger().setLevel(logging.WARNING)
    options = RehearsalOptions(speed=args.speed, seed=args.seed)
    result = asyncio.run(rehearse(settings, options))
    return 0 if result.ok else 1


def _cmd_start(settings: Settings, args: argparse.Namespace) -> int:
    """The README's main job: the bot when a token is set, otherwise the rehearsal."""
    if settings.telegram_bot_token is None:
        print(
            "TELEGRAM_BOT_TOKEN is not set: running the rehearsal on the local Bot API server "
            "(set the token in .env to run the real bot).",
            file=sys.stderr,
        )
        return _cmd_rehearse(settings, args)
    return _cmd_run(settings, args)


def _cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.storage import open_storage
    from scheduler.clock import SystemClock

    async def _go() -> str | None:
        from db.migrate import current_revision

        engine, _ = await open_storage(
            settings.database_url, settings.admin_ids, SystemClock().now()
        )
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(_go())
    print(f"database at revision {revision}")
    return 0


# Commands that own their arguments: handed everything after their name, untouched.
PASSTHROUGH = {
    "messages": ("messages.cli", "check or show library messages"),
    "sandbox": ("sandbox.cli", "run the local Bot API server"),
    "import-tps": ("bot.tps_cli", "load the TPS registry from a CSV (see domain/tps.py)"),
    "report": ("bot.report_cli", "delivery and acknowledgement reports: text, csv or png"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="kentongan")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the bot (long polling)").set_defaults(func=_cmd_run)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_cmd_migrate)
    for name, func, help_text in (
        ("rehearse", _cmd_rehearse, "play the whole timeline against the local Bot API server"),
        ("start", _cmd_start, "run the bot if a token is set, otherwise the rehearsal"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--speed", type=float, default=60.0, help="simulated minutes per second")
        p.add_argument("--seed", type=int, default=7)
        p.set_defaults(func=func)
    from bot import shell

    shell.add_parsers(sub)
    for name, (_module, help_text) in PASSTHROUGH.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in PASSTHROUGH:
        import importlib

        entry = importlib.import_module(PASSTHROUGH[argv[0]][0])
        return int(entry.main(argv[1:]))
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        _configure_logging(settings.log_level)
        return int(args.func(settings, args))
    except (SettingsError, ProfileError) as exc:
        print(f"kentongan: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
