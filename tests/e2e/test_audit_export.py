"""/audit csv exports every entry (issue 10: it stopped at 1,000), in parts when it is long,
each part saying which one it is."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

import bot.handlers.audit as audit_handler
from db.models import AuditEntry
from domain.audit import audit
from sandbox.world import Message
from tests.e2e.harness import Harness

ENTRIES = 2_345


async def _seed(h: Harness) -> int:
    now = h.clock.now()
    async with h.services.sessions.begin() as session:
        for i in range(ENTRIES):
            audit(session, now, 910001, "test.entry", f"user:{700000 + i}", n=i)
    async with h.services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _rows(h: Harness, message: Message) -> list[dict[str, str]]:
    assert message.document is not None
    data = h.world.files[message.document["file_id"]].data.decode("utf-8")
    return list(csv.DictReader(io.StringIO(data)))


async def test_the_whole_log_in_one_file(kentongan: Harness) -> None:
    h = kentongan
    total = await _seed(h)
    assert total > 1_000
    document = await h.say(h.admin(), "/audit csv", match=lambda m: m.document is not None)
    rows = _rows(h, document)
    assert len(rows) == total
    assert f"{total} baris" in (document.caption or "")


async def test_a_long_log_comes_in_parts(
    kentongan: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = kentongan
    monkeypatch.setattr(audit_handler, "PART_ROWS", 1_000)
    total = await _seed(h)
    parts = -(-total // 1_000)
    root = h.admin()
    last = h.world.last_bot_message(root)
    h.world.user_sends(root, None, "/audit csv")
    documents = await h.server.wait_until(
        lambda: (
            [
                m
                for m in h.world.bot_messages(root)
                if m.document is not None and m.message_id > (last.message_id if last else 0)
            ][:parts]
            if len([m for m in h.world.bot_messages(root) if m.document is not None]) >= parts
            else None
        ),
        timeout=20,
    )
    ids: list[int] = []
    for number, document in enumerate(documents, start=1):
        rows = _rows(h, document)
        assert f"bagian {number} dari {parts}" in (document.caption or "")
        assert f"seluruhnya {total}" in (document.caption or "")
        assert len(rows) == (1_000 if number < parts else total - 1_000 * (parts - 1))
        ids += [int(r["id"]) for r in rows]
    assert len(ids) == total == len(set(ids))
    assert ids == sorted(ids, reverse=True)  # newest first across the parts
