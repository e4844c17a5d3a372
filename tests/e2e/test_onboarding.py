"""Onboarding end to end: a poster's link starts registration with the kelurahan chosen."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Group
from domain.onboarding import start_payload
from sandbox import Chat, Member, Message, User
from tests.e2e.harness import Harness

ORO_ORO_DOWO = "35.73.02.1008"
HOOK = (
    "needs the hook in docs/onboarding-registration-hook.patch (bot/handlers/registration.py "
    "on main; bot/handlers/groups.py here): registration_hint -> start at the kelurahan"
)


async def press(h: Harness, user: User, message: Message, label: str, chat: Chat) -> None:
    data = message.button(label)["callback_data"]
    query_id = h.world.press_button(user, chat, message.message_id, data)
    await h.server.wait_for_callback_answer(query_id)


async def registered(h: Harness, chat: Chat) -> Group | None:
    async with h.services.sessions() as session:
        return await session.scalar(
            select(Group).where(Group.chat_id == chat.id, Group.subscribed.is_(True))
        )


async def test_poster_link_preselects_the_kelurahan_and_still_asks_to_confirm(
    kentongan: Harness,
) -> None:
    h = kentongan
    leader = h.world.add_user("Bu RW")
    chat = h.world.add_group("RW 04 Oro-oro Dowo", "group", admins=[leader])
    h.world.add_bot_to_group(chat, by=leader)
    await h.server.wait_for_message(chat)  # the greeting
    # Telegram sends the startgroup payload as "/start <payload>" in the chosen group.
    payload = start_payload(ORO_ORO_DOWO)
    flow = await h.say(leader, f"/start@kentongan_sandbox_bot {payload}", chat)
    assert "Kelurahan Oro-oro Dowo" in (flow.text or "")
    assert "Langkah 3 dari 4" in (flow.text or "")
    await press(h, leader, flow, "Grup RW", chat)
    await press(h, leader, flow, "4", chat)
    assert "Periksa sebelum disimpan" in (flow.text or "")
    assert "Oro-oro Dowo" in (flow.text or "")
    assert await registered(h, chat) is None  # nothing stored before the admin confirms
    await press(h, leader, flow, "✅ Simpan", chat)
    group = await registered(h, chat)
    assert group is not None
    assert (group.kelurahan_code, group.rw, group.rt) == (ORO_ORO_DOWO, 4, None)


async def test_mangled_or_dropped_payload_still_registers(kentongan: Harness) -> None:
    h = kentongan
    leader = h.world.add_user("Pak RW")
    chat = h.world.add_group("RW 02", "group", admins=[leader])
    h.world.add_bot_to_group(chat, by=leader)
    await h.server.wait_for_message(chat)
    # Some clients drop the parameter; then the admin uses /daftar as the poster says.
    flow = await h.say(leader, "/daftar", chat)
    assert "Langkah 1 dari 4" in (flow.text or "")
    plain = await h.say(leader, "/start@kentongan_sandbox_bot daftar", chat)
    assert "Langkah 1 dari 4" in (plain.text or "")


async def test_undang_gives_officials_the_invitation_to_forward(kentongan: Harness) -> None:
    h = kentongan
    admin = h.admin()
    intro = await h.say(admin, "/undang oro-oro dowo")
    assert "Teruskan pesan berikut" in (intro.text or "")
    invitation = await h.server.wait_for_message(admin, after=intro.message_id)
    text = invitation.text or ""
    assert "Kelurahan Oro-oro Dowo" in text
    assert "https://t.me/kentongan_sandbox_bot?startgroup=daftar-3573021008" in text
    unknown = await h.say(admin, "/undang atlantis")
    assert "tidak dikenal" in (unknown.text or "") and "/undang NAMA KELURAHAN" in (
        unknown.text or ""
    )
    resident = h.world.add_user("Warga", started=True)
    refused = await h.say(resident, "/undang")
    assert "hanya untuk petugas" in (refused.text or "")


async def test_cekgrup_runs_the_preflight_and_reports_the_reach(kentongan: Harness) -> None:
    h = kentongan
    admin = h.admin()
    _, kicked = await h.registered_groups(2)
    kicked.bot_member = Member(h.world.bot, "kicked")  # an update the bot never got
    started = await h.say(admin, "/cekgrup")
    assert "Memeriksa 2 grup" in (started.text or "")
    result = await h.server.wait_for_message(admin, after=started.message_id, timeout=10)
    text = result.text or ""
    assert "Siaran berikutnya menjangkau 1 dari 2 grup; 1 bot dikeluarkan" in text
    assert "bot dikeluarkan" in text.split("Sumbersari")[1]
    async with h.services.sessions() as session:
        gone = await session.scalar(select(Group).where(Group.chat_id == kicked.id))
    assert gone is not None and not gone.active
