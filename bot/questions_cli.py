"""`python -m bot questions …`: the officials' inbox from a shell.

    python -m bot questions list                 # answered questions, with their ids and labels
    python -m bot questions label 12 pendamping  # the intent question 12 should have had
    python -m bot questions export               # labelled ones -> DATA_DIR/resident_questions.csv
    python -m bot questions export --csv tests/data/resident_questions.csv   # in a checkout

Exported questions join the ``tune`` split (batch ``inbox``) of the labelled set, so the next
lexicon change is measured against what residents really asked. Without ``--csv`` they go to
``resident_questions.csv`` in the data directory (``DATA_DIR``, where the database lives), so an
installed copy writes somewhere it may; a missing file is started with the set's header. The
path written is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from sqlalchemy import select

from bot.settings import SettingsError, load_settings
from bot.storage import open_storage
from db.models import QuestionStatus, ResidentQuestion
from domain import questions
from domain.intents import Intent
from scheduler.clock import SystemClock

EXPORT_FILE = "resident_questions.csv"  # in the data directory, unless --csv


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot questions", description="Kotak pertanyaan warga."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="pertanyaan yang sudah dijawab, dengan nomor dan labelnya")
    label = sub.add_parser("label", help="beri intent pada pertanyaan yang sudah dijawab")
    label.add_argument("id", type=int)
    label.add_argument("intent", choices=[i.value for i in Intent])
    export = sub.add_parser("export", help="tambahkan yang berlabel ke set berlabel (CSV)")
    export.add_argument(
        "--csv", type=Path, default=None, help=f"berkas CSV (bawaan: DATA_DIR/{EXPORT_FILE})"
    )
    return parser


async def _run(options: argparse.Namespace) -> int:
    settings = load_settings()
    engine, sessions = await open_storage(
        settings.database_url, settings.admin_ids, SystemClock().now()
    )
    try:
        async with sessions.begin() as session:
            if options.command == "list":
                rows = await session.scalars(
                    select(ResidentQuestion)
                    .where(ResidentQuestion.status == QuestionStatus.ANSWERED)
                    .order_by(ResidentQuestion.id)
                )
                for row in rows:
                    print(f"{row.id}\t{row.intent or '-'}\t{row.text}")
                return 0
            if options.command == "label":
                if not await questions.label(session, options.id, Intent(options.intent)):
                    print(f"questions: #{options.id} belum dijawab atau tidak ada", file=sys.stderr)
                    return 1
                print(f"#{options.id}: {options.intent}")
                return 0
            path = options.csv if options.csv is not None else settings.data_dir / EXPORT_FILE
            added = await questions.export_labelled(session, path)
            print(f"{added} pertanyaan ditambahkan ke {path.resolve()}")
            return 0
    finally:
        await engine.dispose()


def main(argv: list[str]) -> int:
    args = list(argv)
    if args[:1] == ["questions"]:
        args = args[1:]
    options = _parser().parse_args(args)
    try:
        return asyncio.run(_run(options))
    except SettingsError as exc:
        print(f"questions: {exc}", file=sys.stderr)
        return 2
