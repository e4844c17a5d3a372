"""`kentongan backup` while a broadcast runs: a consistent copy with every table; restore."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.backup import BackupError, backup
from bot.cli import main
from bot.storage import open_storage
from db import migrate
from db.models import Base, Delivery, DeliveryStatus
from tests.e2e.harness import running_kentongan
from tests.e2e.test_acks import send_broadcast

GROUPS = 120


def _tables(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        }


def _check_copy(target: Path) -> int:
    """Private to its owner, one file (not a WAL pair), no leftovers; its sent deliveries."""
    assert target.stat().st_mode & 0o777 == 0o600
    assert not list(target.parent.glob(".*partial"))
    assert not Path(f"{target}-wal").exists()
    with contextlib.closing(sqlite3.connect(target)) as conn:
        return int(
            conn.execute("SELECT count(*) FROM deliveries WHERE status='sent'").fetchone()[0]
        )


def _restore(backup_file: Path, database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copy2(backup_file, database)


async def test_backup_during_a_broadcast_opens_with_all_tables_and_restores(
    tmp_path: Path,
) -> None:
    target = tmp_path / "cadangan" / "kentongan-backup.db"
    async with running_kentongan(tmp_path) as h:
        database = Path(make_url(h.settings.database_url).database or "")
        await h.registered_groups(GROUPS)
        # Telegram's limits are on: 120 groups take a few seconds, the backup runs meanwhile.
        run = asyncio.create_task(send_broadcast(h, "<b>Pengingat</b> saat pencadangan"))
        await h.server.wait_until(
            lambda: h.db_rows("SELECT count(*) FROM deliveries WHERE status='sent'")[0][0] >= 10,
            timeout=30,
        )
        result = await backup(h.settings.database_url, target)
        sent_at_backup = h.db_rows("SELECT count(*) FROM deliveries WHERE status='sent'")[0][0]
        assert not run.done(), "the broadcast ended before the backup: nothing proven"
        broadcast_id = await run
        async with h.services.sessions() as session:
            sent = await session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.status == "sent")
            )
        assert sent == GROUPS
    # Every table of the schema, the revision the code expects, private to its owner.
    expected = {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    assert _tables(target) == expected == _tables(database)
    assert result.tables == len(expected) and result.revision == migrate.head_revision()
    in_copy = _check_copy(target)
    assert 10 <= in_copy <= sent_at_backup <= GROUPS

    # Restore as the guide says: bot stopped, the copy put in place of the database (and its
    # -wal/-shm removed), then started: it opens, migrates nothing, and resumes from the copy.
    _restore(target, database)
    engine, sessions = await open_storage(
        f"sqlite+aiosqlite:///{database}", frozenset(), h.clock.now()
    )
    try:
        assert await migrate.current_revision(engine) == migrate.head_revision()
        async with sessions() as session:
            restored = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(
                    Delivery.broadcast_id == broadcast_id, Delivery.status == DeliveryStatus.SENT
                )
            )
        assert restored == in_copy
    finally:
        await engine.dispose()


async def test_backup_refusals_and_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(BackupError, match="pg_dump"):
        await backup("postgresql+asyncpg://u@h/db", tmp_path / "x.db")
    with pytest.raises(BackupError, match="does not exist"):
        await backup(f"sqlite+aiosqlite:///{tmp_path / 'none.db'}", tmp_path / "x.db")
    existing = tmp_path / "ada.db"
    existing.write_text("")
    url = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    engine, _ = await open_storage(url, frozenset(), datetime.now(UTC))
    await engine.dispose()
    with pytest.raises(BackupError, match="already exists"):
        await backup(url, existing)
    assert (await backup(url, existing, overwrite=True)).tables > 10

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    assert await asyncio.to_thread(main, ["backup", str(existing)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["backup", "--force", str(existing)]) == 0
    assert f"revision {migrate.head_revision()}" in capsys.readouterr().out
    folder = tmp_path / "cadangan"
    assert await asyncio.to_thread(main, ["backup", f"{folder}/"]) == 0
    (made,) = await asyncio.to_thread(lambda: list(folder.glob("kentongan-*.db")))
    assert made.name in capsys.readouterr().out
