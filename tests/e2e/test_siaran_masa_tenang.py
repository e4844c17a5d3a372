"""/siaran inside masa tenang (issue 16): own text gets the stricter rules, said in Indonesian;
the same text before masa tenang reaches the preview; an approval that would send it inside
masa tenang is refused too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Broadcast, BroadcastStatus, OfficialRole
from domain.broadcasts import Draft, DraftRefused, approve, submit
from domain.officials import find_actor
from tests.authority_fixtures import seed_official
from tests.e2e.harness import ADMIN_ID, Harness, running_kentongan

DEBATE = "Simak debat publik calon wali kota di TV lokal malam ini."
SECOND_ADMIN = 940002


async def _draft_to_preview(h: Harness, text: str) -> str:
    """Type `text` into /siaran, all groups, now; the bot's answer after "Kirim sekarang"."""
    admin = h.admin()
    menu = await h.say(admin, "/siaran")
    await h.press(admin, menu, "✍️ Tulis teks sendiri")
    step = await h.say(admin, text)
    assert "Kirim ke siapa" in (step.text or "")
    when = await h.press(admin, step, "Semua grup se-kota")
    assert when is not None
    last = h.world.last_bot_message(admin)
    assert last is not None
    h.world.press_button(
        admin, admin, when.message_id, when.button("Kirim sekarang")["callback_data"]
    )

    def settled() -> str | None:
        newer = [m for m in h.world.bot_messages(admin) if m.message_id > last.message_id]
        if any("Pratinjau" in (m.text or "") for m in newer):
            return "\n".join(m.text or "" for m in newer)
        if "Kapan" not in (when.text or ""):
            return when.text
        return None

    result: str = await h.server.wait_until(settled)
    return result


async def test_campaign_material_is_refused_inside_masa_tenang(kentongan: Harness) -> None:
    h = kentongan  # Monday 25 November 2024, 08.00 WIB: masa tenang
    await h.registered_groups(1)
    said = await _draft_to_preview(h, DEBATE)
    assert "masa tenang" in said and "debat publik" in said
    assert "Pratinjau" not in said
    assert "setelah masa tenang" in said  # what to do instead


async def test_the_same_text_before_masa_tenang_reaches_the_preview(tmp_path: Path) -> None:
    before = datetime(2024, 11, 22, 2, 0, tzinfo=UTC)
    async with running_kentongan(tmp_path, now=before) as h:
        await h.registered_groups(1)
        said = await _draft_to_preview(h, DEBATE)
        assert "Pratinjau" in said and "Perlu persetujuan" in said


async def test_approval_inside_masa_tenang_applies_the_stricter_rules(tmp_path: Path) -> None:
    # Saturday 23 November, 23.00 WIB: the last hour of campaigning.
    before = datetime(2024, 11, 23, 16, 0, tzinfo=UTC)
    async with running_kentongan(tmp_path, now=before) as h:
        async with h.services.sessions.begin() as session:
            await seed_official(session, SECOND_ADMIN, OfficialRole.ADMIN, h.clock.now())
            admin = await find_actor(session, ADMIN_ID)
            assert admin is not None
            draft = Draft(audience="all", scheduled_at=h.clock.now(), text=DEBATE)
            broadcast = await submit(session, admin, draft, h.services.profile, h.clock.now())
            broadcast_id = broadcast.id
        h.clock.advance(timedelta(hours=2))  # Sunday 24 November, 01.00: masa tenang
        async with h.services.sessions.begin() as session:
            second = await find_actor(session, SECOND_ADMIN)
            assert second is not None
            with pytest.raises(DraftRefused) as refused:
                await approve(
                    session, second, broadcast_id, h.clock.now(), profile=h.services.profile
                )
        assert "masa tenang" in str(refused.value)
        async with h.services.sessions() as session:
            status = await session.scalar(
                select(Broadcast.status).where(Broadcast.id == broadcast_id)
            )
        assert status is BroadcastStatus.AWAITING_APPROVAL
