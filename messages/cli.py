"""``check`` and ``show`` for the message library (wired into ``python -m bot messages``).

Exit codes: 0 fine; 1 the library has problems (one line ``KEY: reason`` each);
2 the command cannot run (unknown key, unreadable profile, bad arguments).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from messages.check import check_library
from messages.library import Library, LibraryError, UnknownMessageError, load_library
from messages.render import RenderError, render
from messages.telegram_html import visible_text

if TYPE_CHECKING:
    from election.profile import ElectionProfile


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--library", type=Path, help="folder (atau berkas) TOML pesan")
    common.add_argument("--profile", type=Path, help="berkas profil pemilihan (TOML)")
    parser = argparse.ArgumentParser(prog="messages", description="Pustaka pesan kentongan.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", parents=[common], help="periksa semua pesan")
    show = sub.add_parser("show", parents=[common], help="tampilkan satu pesan yang dirender")
    show.add_argument("key", help="kunci pesan, mis. netralitas.rt_rw")
    show.add_argument(
        "--now", type=datetime.fromisoformat, help="waktu ISO berzona, mis. 2024-11-27T10:00+07:00"
    )
    show.add_argument("--plain", action="store_true", help="tampilkan tanpa tag HTML")
    show.add_argument(
        "--set", action="append", default=[], metavar="NAMA=NILAI", help="nilai params"
    )
    sub.add_parser("list", parents=[common], help="daftar kunci, audience, dan judul")
    return parser


def _profile(path: Path | None) -> ElectionProfile:
    from election.profile import load_profile

    # Without --profile, the profile the bot runs with (`python -m bot messages` passes the
    # settings' ELECTION_PROFILE, .env included; here the environment's).
    return load_profile(path or os.environ.get("ELECTION_PROFILE") or None)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    stderr = out or sys.stderr
    try:
        args = _parser().parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2

    try:
        library: Library = load_library(args.library)
    except LibraryError as exc:
        for problem in exc.problems:
            print(problem, file=stdout)
        print(f"GAGAL: {len(exc.problems)} masalah", file=stdout)
        return 1 if args.command == "check" else 2

    if args.command == "list":
        for message in library:
            print(f"{message.key}\t{message.audience.value}\t{message.title}", file=stdout)
        return 0

    try:
        profile = _profile(args.profile)
    except Exception as exc:  # ProfileError, without importing bot at module load
        print(f"profil pemilihan tidak dapat dibaca: {exc}", file=stderr)
        return 2

    if args.command == "check":
        problems = check_library(library, profile)
        for problem in problems:
            print(problem, file=stdout)
        if problems:
            print(f"GAGAL: {len(problems)} masalah", file=stdout)
            return 1
        print(f"OK: {len(library)} pesan", file=stdout)
        return 0

    try:
        message = library.get(args.key)
    except UnknownMessageError:
        print(
            f"pesan {args.key!r} tidak ada; lihat daftar kunci dengan: messages list",
            file=stderr,
        )
        return 2
    extra: dict[str, object] = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            print(f"--set butuh NAMA=NILAI, bukan {item!r}", file=stderr)
            return 2
        extra[name] = value
    if args.now is not None and args.now.tzinfo is None:
        print("--now harus berzona waktu, mis. 2024-11-27T10:00+07:00", file=stderr)
        return 2
    try:
        text = render(message, profile, now=args.now, extra=extra)
    except RenderError as exc:
        print(exc, file=stderr)
        return 2
    print(visible_text(text) if args.plain and message.is_html else text, file=stdout)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
