"""/siaran's "Wajibkan konfirmasi" option: the draft asks groups to acknowledge with the
profile's escalation chain (as /eskalasi does for one broadcast), shown in the preview and on
the approver's screen, stored on the broadcast."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Select, select

from db.models import Broadcast, BroadcastStatus, OfficialRole
from domain.escalation import requires_ack
from messages.telegram_html import visible_text
from sandbox.world import Message, User
from tests.authority_fixtures import seed_official
from tests.e2e.harness import Harness, running_kentongan

BEFORE_MASA_TENANG = datetime(2024, 11, 22, 2, 0, tzinfo=UTC)  # Friday 09.00 WIB
CREATOR = 950011
TEXT = "Kerja bakti bersihkan selokan RW 5, Minggu pukul 07.00."
ASK, DROP = "🔔 Wajibkan konfirmasi + eskalasi", "🔕 Tanpa eskalasi"


async def _preview(h: Harness, creator: User) -> Message:
    menu = await h.say(creator, "/siaran")
    await h.press(creator, menu, "✍️ Tulis teks sendiri")
    step = await h.say(creator, TEXT)
    when = await h.press(creator, step, "Semua grup se-kota")
    assert when is not None
    last = h.world.last_bot_message(creator)
    assert last is not None
    h.world.press_button(
        creator, creator, when.message_id, when.button("Kirim sekarang")["callback_data"]
    )
    return await h.server.wait_for_message(
        creator, lambda m: "Pratinjau" in (m.text or ""), after=last.message_id
    )


def _last_id(h: Harness, user: User, count: int) -> int:
    """The id of the bot's ``count``-th message to the user (0: none yet)."""
    messages = h.world.bot_messages(user)
    return messages[count - 1].message_id if count else 0


def _labels(message: Message) -> list[str]:
    return [b["text"] for b in message.buttons()]


async def test_a_draft_asks_for_acknowledgement_with_the_chain(tmp_path: Path) -> None:
    async with running_kentongan(tmp_path, now=BEFORE_MASA_TENANG) as h:
        async with h.services.sessions.begin() as session:
            await seed_official(session, CREATOR, OfficialRole.ADMIN, h.clock.now())
        creator = h.world.add_user("Admin Kota", user_id=CREATOR, started=True)
        root = h.admin()
        await h.registered_groups(2)
        summary = await _preview(h, creator)
        assert ASK in _labels(summary) and "Wajib konfirmasi" not in (summary.text or "")

        asked = await h.press(creator, summary, ASK)
        assert asked is summary  # the summary changes in place
        body = visible_text(asked.text)
        assert "Wajib konfirmasi." in body
        assert "pengingat di grup (+60 menit)" in body and "(+240 menit)" in body
        assert DROP in _labels(asked) and ASK not in _labels(asked)
        dropped = await h.press(creator, asked, DROP)
        assert dropped is not None and "Wajib konfirmasi" not in visible_text(dropped.text)
        again = await h.press(creator, dropped, ASK)
        assert again is not None and "Wajib konfirmasi" in visible_text(again.text)

        # Own text needs a second admin: the approver sees the same requirement.
        seen = len(h.world.bot_messages(root))
        await h.press(creator, again, "📨 Ajukan persetujuan")
        header = await h.server.wait_for_message(
            root,
            lambda m: "menunggu persetujuan" in (m.text or ""),
            after=_last_id(h, root, seen),
        )
        assert "Wajib konfirmasi." in visible_text(header.text)
        assert "pengingat di grup (+60 menit)" in visible_text(header.text)
        async with h.services.sessions() as session:
            broadcast = (await session.scalars(select_latest())).one()
        assert broadcast.status is BroadcastStatus.AWAITING_APPROVAL
        assert broadcast.ack_chain and requires_ack(broadcast, h.services.profile)


async def test_without_the_option_a_draft_asks_nothing(tmp_path: Path) -> None:
    async with running_kentongan(tmp_path, now=BEFORE_MASA_TENANG) as h:
        async with h.services.sessions.begin() as session:
            await seed_official(session, CREATOR, OfficialRole.ADMIN, h.clock.now())
        creator = h.world.add_user("Admin Kota", user_id=CREATOR, started=True)
        root = h.admin()
        await h.registered_groups(1)
        summary = await _preview(h, creator)
        seen = len(h.world.bot_messages(root))
        await h.press(creator, summary, "📨 Ajukan persetujuan")
        header = await h.server.wait_for_message(
            root,
            lambda m: "menunggu persetujuan" in (m.text or ""),
            after=_last_id(h, root, seen),
        )
        assert "Wajib konfirmasi" not in visible_text(header.text)
        async with h.services.sessions() as session:
            broadcast = (await session.scalars(select_latest())).one()
        assert not broadcast.ack_chain and not requires_ack(broadcast, h.services.profile)


def select_latest() -> Select[tuple[Broadcast]]:
    return select(Broadcast).where(Broadcast.created_by == CREATOR)
