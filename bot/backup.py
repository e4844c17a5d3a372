"""`kentongan backup FILE`: a consistent copy of the SQLite database, safe while the bot runs.

A plain `cp` of a WAL-mode database can miss everything still in the -wal file (a copy with
0 tables); SQLite's online backup API copies a consistent snapshot page by page while the bot
keeps writing. The copy is written to a temporary file created 0600, switched to a single
file (journal_mode=DELETE), verified (integrity check, the schema revision, every table), and
only then renamed to FILE. PostgreSQL is backed up with pg_dump (docs/panduan-operator.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """Why no backup was written; the message says what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    tables: int
    revision: str


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            "DATABASE_URL is not SQLite: back up PostgreSQL with "
            "`pg_dump -Fc -f kentongan.dump DBNAME` (see docs/panduan-operator.md)"
        )
    if url.database in (None, "", ":memory:"):
        raise BackupError("an in-memory database cannot be backed up")
    return Path(url.database)


def create_private(path: Path) -> None:
    """Create `path` empty with mode 0600 (fails if it exists)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def verify(path: Path) -> tuple[int, str]:
    """Open a backup read-only: integrity, schema revision, tables. Returns (tables, revision)."""
    uri = f"file:{path}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        ok = conn.execute("PRAGMA integrity_check").fetchone()
        if ok is None or ok[0] != "ok":
            raise BackupError(f"backup {path} failed its integrity check: {ok}")
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        if "alembic_version" not in tables:
            raise BackupError(f"backup {path} has no schema revision (not a kentongan database)")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = str(row[0]) if row else ""
        for table in tables:  # every table readable
            conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    return len(tables), revision


def backup_sqlite(source: Path, target: Path, *, overwrite: bool = False) -> BackupResult:
    if not source.is_file():
        raise BackupError(f"database {source} does not exist (run `kentongan migrate` first)")
    target = target.expanduser()
    if target.resolve() == source.resolve():
        raise BackupError("the backup file must not be the database itself")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists (choose another name or use --force)")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    create_private(partial)
    try:
        with (
            contextlib.closing(sqlite3.connect(source)) as src,
            contextlib.closing(sqlite3.connect(partial)) as dst,
        ):
            src.execute("PRAGMA busy_timeout=10000")
            # Page by page; the bot's writes between steps restart the copy from a new
            # snapshot, so the result is always consistent.
            src.backup(dst, pages=1024)
            dst.execute("PRAGMA journal_mode=DELETE")
            dst.commit()
        tables, revision = verify(partial)
        source_revision = verify_revision_of(source)
        if revision != source_revision:
            raise BackupError(
                f"backup revision {revision} differs from the database's {source_revision}"
            )
        os.chmod(partial, 0o600)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(target, target.stat().st_size, tables, revision)


def verify_revision_of(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA busy_timeout=10000")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else ""


def target_file(target: Path | str, now: datetime | None = None) -> Path:
    """FILE as given, or inside a folder (an existing one, or a path ending in "/") a new
    kentongan-YYYYMMDD-HHMMSS.db, so a timer can back up every hour to one folder."""
    path = Path(target)
    if path.is_dir() or str(target).endswith("/"):
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
        return path / f"kentongan-{stamp}.db"
    return path


async def backup(database_url: str, target: Path | str, *, overwrite: bool = False) -> BackupResult:
    """Back up the configured SQLite database to `target` without stopping the bot."""
    source = sqlite_path(database_url)
    return await asyncio.to_thread(backup_sqlite, source, target_file(target), overwrite=overwrite)
