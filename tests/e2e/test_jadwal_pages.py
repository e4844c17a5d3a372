"""/jadwal pages instead of cutting at 30 (issue 10): every broadcast on exactly one page, the
buttons move between pages in place, forged pages are answered."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from db.models import Broadcast, BroadcastSource, BroadcastStatus
from tests.e2e.harness import Harness


async def _many(h: Harness, n: int) -> None:
    now = h.clock.now()
    async with h.services.sessions.begin() as session:
        for i in range(n):
            at = now + timedelta(hours=i + 1)
            session.add(
                Broadcast(
                    source=BroadcastSource.LIBRARY,
                    message_key="hoaks.saring",
                    audience="all",
                    scheduled_at=at,
                    expires_at=at + timedelta(hours=2),
                    status=BroadcastStatus.SCHEDULED,
                    created_at=now,
                )
            )


def _ids(body: str) -> list[int]:
    return [int(n) for n in re.findall(r"^#(\d+) ·", body, re.MULTILINE)]


async def test_jadwal_is_paged_with_buttons(kentongan: Harness) -> None:
    h = kentongan
    await _many(h, 45)
    async with h.services.sessions() as session:
        total = await session.scalar(
            select(func.count())
            .select_from(Broadcast)
            .where(Broadcast.scheduled_at >= h.clock.now() - timedelta(days=2))
        )
    assert total is not None and total > 45
    admin = h.admin()
    listing = await h.say(admin, "/jadwal")
    pages = -(-total // 15)
    assert f"Halaman 1 dari {pages} ({total} siaran)" in (listing.text or "")
    seen = _ids(listing.text or "")
    assert len(seen) == 15
    assert [b["text"] for b in listing.buttons()] == ["Berikutnya ▶️"]
    for page in range(2, pages + 1):
        shown = await h.press(admin, listing, "Berikutnya ▶️")
        assert shown is listing  # edited in place
        assert f"Halaman {page} dari {pages}" in (listing.text or "")
        seen += _ids(listing.text or "")
    assert "Berikutnya ▶️" not in [b["text"] for b in listing.buttons()]
    assert len(seen) == total and len(set(seen)) == total  # each on exactly one page
    back = await h.press(admin, listing, "◀️ Sebelumnya")
    assert back is not None and f"Halaman {pages - 1} dari {pages}" in (listing.text or "")

    direct = await h.say(admin, "/jadwal 2")
    assert f"Halaman 2 dari {pages}" in (direct.text or "")
    beyond = await h.say(admin, "/jadwal 500")  # past the end: the last page
    assert f"Halaman {pages} dari {pages}" in (beyond.text or "")
    bad = await h.say(admin, "/jadwal dua")
    assert "Halaman" in (bad.text or "") and "Jadwal siaran" not in (bad.text or "")
    for data in ("jd:0", "jd:99999", "jd:x"):
        query = h.forge_press(admin, listing, data)
        answer = await h.server.wait_for_callback_answer(query)
        assert answer.text, data
    # A resident's press of a page changes nothing and is answered.
    warga = h.world.add_user("Warga", started=True)
    query = h.forge_press(warga, listing, "jd:2")
    answer = await h.server.wait_for_callback_answer(query)
    assert "petugas" in (answer.text or "")
