"""`python -m bot …`: run the bot, migrate, check messages, start the local Bot API server."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.settings import Settings, SettingsError, load_settings
from domain.regions import use_regions_file
from election.profile import ProfileError

log = logging.getLogger("kentongan")


def _configure_logging(settings: Settings) -> None:
    from bot.logs import configure_logging

    token = settings.telegram_bot_token
    configure_logging(
        settings.log_level,
        fmt=settings.log_format,
        secrets=[token.get_secret_value()] if token is not None else [],
    )


def warn_if_env_file_is_open(path: Path = Path(".env")) -> bool:
    """Say so when the settings file (it holds the token) is readable by others (issue 11)."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return False
    if not mode & 0o077:
        return False
    log.warning(
        "%s holds the bot token but other users can read it (mode %03o): chmod 600 %s",
        path,
        mode,
        path,
    )
    return True


def _cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    settings.token  # noqa: B018 - fails early with one clear line when the token is missing
    warn_if_env_file_is_open()
    if settings.webhook_url:
        from bot.webhook import run_webhook

        return run_webhook(settings)
    from bot.app import run_polling

    settings.token  # noqa: B018 - fails early with one clear line when the token is missing
    return run_polling(settings)


def _cmd_rehearse(settings: Settings, args: argparse.Namespace) -> int:
    from bot.rehearsal import RehearsalOptions, rehearse

    # The rehearsal prints its own progress; library chatter would drown it.
    logging.getLogger().setLevel(logging.WARNING)
    from bot.rehearsal import RehearsalError

    options = RehearsalOptions(
        speed=args.speed,
        seed=args.seed,
        agenda=args.agenda,
        database_url=getattr(args, "database_url", None),
    )
    try:
        result = asyncio.run(rehearse(settings, options))
    except RehearsalError as exc:
        print(f"kentongan: {exc}", file=sys.stderr)
        return 2
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


def _cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from bot.backup import BackupError, backup

    try:
        result = asyncio.run(backup(settings.database_url, args.file, overwrite=args.force))
    except BackupError as exc:
        print(f"kentongan backup: {exc}", file=sys.stderr)
        return 1
    print(
        f"backup {result.path} ({result.size} bytes, {result.tables} tables, "
        f"revision {result.revision}) OK"
    )
    return 0


def _messages_argv(argv: list[str]) -> list[str]:
    """`messages check|show|list` use the settings' ELECTION_PROFILE unless --profile is given."""
    if not argv or argv[0] not in {"check", "show"} or "--profile" in argv:
        return argv
    if any(a in {"-h", "--help"} for a in argv):
        return argv
    return [*argv, "--profile", str(load_settings().election_profile)]


# Commands that own their arguments: handed everything after their name, untouched.
PASSTHROUGH = {
    "messages": ("messages.cli", "check or show library messages"),
    "sandbox": ("sandbox.cli", "run the local Bot API server"),
    "import-tps": ("bot.tps_cli", "load the TPS registry from a CSV (see domain/tps_registry.py)"),
    "report": ("bot.report_cli", "delivery and acknowledgement reports: text, csv or png"),
    "questions": (
        "bot.questions_cli",
        "residents' questions: list, label, export to the labelled set",
    ),
    "poster": ("bot.onboarding_cli", "QR posters (PDF, PNG) and the invitation text"),
    "preflight": ("bot.preflight_cli", "check every registered group with Telegram"),
    "agenda": ("bot.agenda_cli", "agendas: list, add FILE, pause NAME, resume NAME"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kentongan", description="kentongan")
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
        p.add_argument(
            "--database-url",
            help="rehearse on this (empty) database instead of a temporary SQLite file",
        )
        p.add_argument("--agenda", metavar="NAME", help="play this agenda instead of the election")
        p.set_defaults(func=func)
    backup_parser = sub.add_parser(
        "backup", help="a consistent copy of the SQLite database, safe while the bot runs"
    )
    backup_parser.add_argument(
        "file",
        help="where to write the copy (mode 0600); a folder: a new timestamped file in it",
    )
    backup_parser.add_argument("--force", action="store_true", help="overwrite FILE")
    backup_parser.set_defaults(func=_cmd_backup)
    from bot import shell

    shell.add_parsers(sub)
    for name, (_module, help_text) in PASSTHROUGH.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in PASSTHROUGH:
        import importlib

        rest = argv[1:]
        if argv[0] == "messages":
            try:
                rest = _messages_argv(rest)
            except SettingsError as exc:
                print(f"kentongan: {exc}", file=sys.stderr)
                return 2
        entry = importlib.import_module(PASSTHROUGH[argv[0]][0])
        return int(entry.main(rest))
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        _configure_logging(settings)
        use_regions_file(settings.regions_file)
        return int(args.func(settings, args))
    except (SettingsError, ProfileError) as exc:
        print(f"kentongan: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
