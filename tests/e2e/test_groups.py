"""Groups subscribe themselves, end to end through the local Bot API server.

Flow buttons edit the flow's message in place and then answer the press, so once the answer is
there the message shows the next step.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.ui.guards import ANY_ADMIN
from db.models import AuditEntry, Group, GroupLevel, Official, OfficialRole
from domain import flows
from domain.flows import CHAT_FLOW, FlowKind
from sandbox import CallbackAnswer, Chat, Member, Message, User
from tests.e2e.harness import Harness

SUMBERSARI = "35.73.05.1005"
NOT_ADMIN = "Maaf, perintah ini hanya dapat dipakai oleh admin grup."


async def press(h: Harness, user: User, message: Message, label: str, chat: Chat) -> CallbackAnswer:
    """Press a button of a flow message; the callback answer (the message is edited by then)."""
    data = message.button(label)["callback_data"]
    query_id = h.world.press_button(user, chat, message.message_id, data)
    return await h.server.wait_for_callback_answer(query_id)


def labels(message: Message) -> list[str]:
    return [b["text"] for b in message.buttons()]


async def eventually(h: Harness, check: Callable[[], Awaitable[bool]], timeout: float = 5) -> None:
    """Re-check a database condition whenever the world changes, until it holds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await h.world.wait_changed(0.05)


async def groups(h: Harness) -> list[Group]:
    async with h.services.sessions() as session:
        return list((await session.scalars(select(Group).order_by(Group.id))).all())


async def group_of(h: Harness, chat: Chat) -> Group | None:
    async with h.services.sessions() as session:
        return await session.scalar(select(Group).where(Group.chat_id == chat.id))


async def audit(h: Harness) -> list[tuple[str, int | None, str, dict[str, object]]]:
    async with h.services.sessions() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    return [
        (r.action, r.actor_id, r.target, json.loads(r.detail) if r.detail else {}) for r in rows
    ]


def setup_group(h: Harness) -> tuple[Chat, User, User]:
    """A group with an admin (the RT leader) and a plain member, the bot added by the admin."""
    admin = h.world.add_user("Pak RT")
    member = h.world.add_user("Warga")
    chat = h.world.add_group("Warga RT 03 RW 05", "group", admins=[admin], members=[member])
    h.world.add_bot_to_group(chat, by=admin)
    return chat, admin, member


def join(chat: Chat, user: User, status: str = "member") -> None:
    """`user` is already in the group (no update: the bot only sees what Telegram shows it)."""
    chat.members[user.id] = Member(user, status)  # type: ignore[arg-type]


async def test_added_to_a_group_it_greets_once_and_records_it_known_not_subscribed(
    kentongan: Harness,
) -> None:
    h = kentongan
    chat, admin, _ = setup_group(h)
    greeting = await h.server.wait_for_message(chat)
    assert "Salam kenal" in (greeting.text or "") and "/daftar" in (greeting.text or "")
    assert labels(greeting) == ["🏘️ Daftarkan grup ini"]
    status = await h.say(admin, "/status", chat)
    assert "belum terdaftar" in (status.text or "")
    # The new_chat_members service message did not bring a second greeting.
    assert [m.message_id for m in h.world.bot_messages(chat)] == [
        greeting.message_id,
        status.message_id,
    ]
    [group] = await groups(h)
    assert (group.chat_id, group.active, group.subscribed, group.title) == (
        chat.id,
        True,
        False,
        "Warga RT 03 RW 05",
    )
    assert (await audit(h))[-1][:2] == ("group.join", admin.id)


@pytest.mark.both_databases
@pytest.mark.both_transports
async def test_guided_registration_with_number_pages_and_an_exact_confirmation(
    kentongan: Harness,
) -> None:
    h = kentongan
    chat, admin, _ = setup_group(h)
    await h.server.wait_for_message(chat)
    flow = await h.say(admin, "/daftar", chat)
    assert "Langkah 1 dari 4" in (flow.text or "")
    assert labels(flow)[:5] == [
        "Kec. Blimbing",
        "Kec. Klojen",
        "Kec. Kedungkandang",
        "Kec. Sukun",
        "Kec. Lowokwaru",
    ]
    await press(h, admin, flow, "Kec. Lowokwaru", chat)
    assert "Langkah 2 dari 4" in (flow.text or "") and "Sumbersari" in labels(flow)
    await press(h, admin, flow, "Sumbersari", chat)
    assert labels(flow)[:2] == ["Grup RW", "Grup RT"]
    await press(h, admin, flow, "Grup RT", chat)
    assert "pilih nomor RW" in (flow.text or "")
    assert labels(flow)[:30] == [str(n) for n in range(1, 31)]
    assert "Lainnya: 31–60 ›" in labels(flow)
    await press(h, admin, flow, "Lainnya: 31–60 ›", chat)
    assert labels(flow)[0] == "31" and "‹ 1–30" in labels(flow)
    await press(h, admin, flow, "‹ 1–30", chat)
    await press(h, admin, flow, "5", chat)
    assert "Pilih nomor RT" in (flow.text or "")
    await press(h, admin, flow, "Lainnya: 31–60 ›", chat)
    await press(h, admin, flow, "42", chat)
    assert (flow.text or "").splitlines() == [
        "📋 Periksa sebelum disimpan",
        "Grup: Warga RT 03 RW 05",
        "Jenis: grup RT",
        "Wilayah: RT 42 / RW 05",
        "Kelurahan: Sumbersari",
        "Kecamatan: Lowokwaru",
        "",
        "Sudah benar?",
    ]
    assert await group_of(h, chat) is not None
    assert not (await group_of(h, chat)).subscribed  # type: ignore[union-attr]
    answer = await press(h, admin, flow, "✅ Simpan", chat)
    assert answer.text == "Tersimpan."
    assert "Grup terdaftar" in (flow.text or "") and flow.buttons() == []
    group = await group_of(h, chat)
    assert group is not None
    assert (group.subscribed, group.active, group.level, group.kelurahan_code, group.rw) == (
        True,
        True,
        GroupLevel.RT,
        SUMBERSARI,
        5,
    )
    assert (group.rt, group.subscribed_by) == (42, admin.id)
    action, actor, target, detail = (await audit(h))[-1]
    assert (action, actor, target) == ("group.subscribe", admin.id, f"chat:{chat.id}")
    assert detail["area"] == "RT 42 / RW 05" and detail["kelurahan"] == SUMBERSARI
    status = await h.say(admin, "/status", chat)
    assert "terdaftar sebagai RT 42 / RW 05, Kelurahan Sumbersari" in (status.text or "")
    assert h.world.unanswered_callbacks() == []


async def test_one_line_form_ambiguity_errors_and_changing_a_registration(
    kentongan: Harness,
) -> None:
    h = kentongan
    chat, admin, _ = setup_group(h)
    await h.server.wait_for_message(chat)

    confirm = await h.say(admin, "/daftar rw 5 sumbersari", chat)
    assert "Wilayah: RW 05" in (confirm.text or "") and "Kelurahan: Sumbersari" in (
        confirm.text or ""
    )
    await press(h, admin, confirm, "✅ Simpan", chat)

    ask = await h.say(admin, "/daftar rt 3 rw 2 mrjosari", chat)
    assert "Kelurahan mana" in (ask.text or "")
    assert {"Merjosari", "Arjosari"} <= set(labels(ask))
    await press(h, admin, ask, "Merjosari", chat)
    # Re-registering shows what it replaces, and changes nothing until Simpan.
    assert "Wilayah: RT 03 / RW 02" in (ask.text or "")
    assert "Mengganti pendaftaran saat ini: RW 05, Kelurahan Sumbersari" in (ask.text or "")
    assert (await group_of(h, chat)).rw == 5  # type: ignore[union-attr]
    await press(h, admin, ask, "✅ Simpan", chat)
    group = await group_of(h, chat)
    assert group is not None and (group.kelurahan_code, group.rw, group.rt) == (
        "35.73.05.1002",
        2,
        3,
    )

    wrong = await h.say(admin, "/daftar rt 3 sumbersari", chat)
    assert "Nomor RW belum disebut" in (wrong.text or "")
    assert "Kec. Lowokwaru" in labels(wrong)  # and the buttons to do it instead
    await press(h, admin, wrong, "❌ Batal", chat)
    assert wrong.text == "Dibatalkan. Tidak ada yang berubah."
    subscribes = [a for a in await audit(h) if a[0] == "group.subscribe"]
    assert [s[3]["before"] for s in subscribes] == [None, f"{SUMBERSARI} RW 05"]


async def test_refusals_non_admin_someone_elses_flow_stale_flow_foreign_chat(
    kentongan: Harness,
) -> None:
    h = kentongan
    chat, admin, member = setup_group(h)
    other_admin = h.world.add_user("Bu RW")
    join(chat, other_admin, "administrator")
    greeting = await h.server.wait_for_message(chat)

    refused = await h.say(member, "/daftar rw 5 sumbersari", chat)
    assert refused.text == NOT_ADMIN
    refused = await h.say(member, "/berhenti", chat)
    assert refused.text == NOT_ADMIN
    # A greeting's button is for any admin, but not for a member.
    answer = await press(h, member, greeting, "🏘️ Daftarkan grup ini", chat)
    assert answer.text == NOT_ADMIN and answer.show_alert
    assert labels(greeting) == ["🏘️ Daftarkan grup ini"]

    old = await h.say(admin, "/daftar", chat)
    current = await h.say(admin, "/daftar", chat)
    before = old.text
    answer = await press(h, admin, old, "Kec. Klojen", chat)
    assert answer.text is not None and "alur lama" in answer.text
    assert old.text == before

    answer = await press(h, member, current, "Kec. Klojen", chat)
    assert answer.text is not None and "admin lain" in answer.text
    answer = await press(h, other_admin, current, "Kec. Klojen", chat)
    assert answer.text is not None and "admin lain" in answer.text
    assert "Langkah 1 dari 4" in (current.text or "")

    # The current flow's button data, pressed in another group: nothing changes there.
    elsewhere, admin2, _ = setup_group(h)
    await h.server.wait_for_message(elsewhere)
    status = await h.say(admin2, "/status", elsewhere)
    data = current.button("Kec. Klojen")["callback_data"]
    answer = await h.server.wait_for_callback_answer(h.forge_press(admin2, status, data))
    assert answer.text is not None and "alur lama" in answer.text
    # Garbage data is refused too.
    answer = await h.server.wait_for_callback_answer(h.forge_press(admin, current, "d:zz"))
    assert answer.text is not None and "tidak dikenali" in answer.text

    await press(h, admin, current, "Kec. Klojen", chat)
    assert "Langkah 2 dari 4" in (current.text or "")
    # A very long or odd typed form is refused with the way to do it, not an error.
    odd = await h.say(admin, "/daftar rw 5 " + "<kampung> " * 400 + "\u202e\u200d🗳️", chat)
    assert "tidak ditemukan di Kota Malang" in (odd.text or "") and "Kec. Klojen" in labels(odd)
    assert not any(g.subscribed for g in await groups(h))
    assert h.world.unanswered_callbacks() == []


async def test_anonymous_admin_registers_and_any_admin_may_continue(kentongan: Harness) -> None:
    h = kentongan
    owner = h.world.add_user("Pemilik")
    hidden = h.world.add_user("Admin Anonim")
    member = h.world.add_user("Warga")
    chat = h.world.add_group(
        "RW 05 Tlogomas",
        "supergroup",
        admins=[owner],
        anonymous_admins=[hidden],
        members=[member],
    )
    h.world.add_bot_to_group(chat, by=owner)
    await h.server.wait_for_message(chat)
    confirm = await h.say(hidden, "/daftar rw 5 tlogomas", chat)
    assert "Kelurahan: Tlogomas" in (confirm.text or "")
    async with h.services.sessions() as session:  # any admin may press
        lookup = await flows.current(
            session, FlowKind.REGISTRATION, chat.id, CHAT_FLOW, h.clock.now()
        )
    assert lookup.flow is not None and lookup.flow.data["owner"] == ANY_ADMIN
    answer = await press(h, member, confirm, "✅ Simpan", chat)
    assert answer.text == NOT_ADMIN
    # Telegram sends an anonymous admin's press from their own account.
    await press(h, hidden, confirm, "✅ Simpan", chat)
    group = await group_of(h, chat)
    assert group is not None and group.subscribed and group.subscribed_by == hidden.id


async def test_berhenti_needs_confirmation_and_is_audited(kentongan: Harness) -> None:
    h = kentongan
    chat, admin, _ = setup_group(h)
    await h.server.wait_for_message(chat)
    nothing = await h.say(admin, "/berhenti", chat)
    assert "tidak sedang terdaftar" in (nothing.text or "")
    confirm = await h.say(admin, "/daftar rw 5 sumbersari", chat)
    await press(h, admin, confirm, "✅ Simpan", chat)

    ask = await h.say(admin, "/berhenti", chat)
    assert labels(ask) == ["🔕 Ya, berhenti", "Batal"]
    await press(h, admin, ask, "Batal", chat)
    assert (await group_of(h, chat)).subscribed  # type: ignore[union-attr]

    # A second admin finishes it (one person typing five commands in a second is slowed down).
    co_admin = h.world.add_user("Bu RT")
    join(chat, co_admin, "administrator")
    ask = await h.say(co_admin, "/berhenti", chat)
    await press(h, co_admin, ask, "🔕 Ya, berhenti", chat)
    assert "tidak lagi menerima siaran" in (ask.text or "")
    group = await group_of(h, chat)
    assert group is not None and not group.subscribed and group.kelurahan_code == SUMBERSARI
    assert (await audit(h))[-1][:2] == ("group.unsubscribe", co_admin.id)
    status = await h.say(co_admin, "/status", chat)
    assert "tidak sedang menerima siaran" in (status.text or "")


async def test_kicked_then_added_again_asks_to_keep_or_change(kentongan: Harness) -> None:
    h = kentongan
    chat, admin, _ = setup_group(h)
    await h.server.wait_for_message(chat)
    confirm = await h.say(admin, "/daftar rt 3 rw 5 sumbersari", chat)
    await press(h, admin, confirm, "✅ Simpan", chat)

    h.world.kick_bot(chat, by=admin)

    async def inactive() -> bool:
        group = await group_of(h, chat)
        return group is not None and not group.active

    await eventually(h, inactive)
    group = await group_of(h, chat)
    assert group is not None and (group.rt, group.kelurahan_code) == (3, SUMBERSARI)
    assert (await audit(h))[-1][:2] == ("group.leave", admin.id)

    h.world.add_bot_to_group(chat, by=admin)
    back = await h.server.wait_for_message(chat, lambda m: "kembali" in (m.text or ""))
    assert "RT 03 / RW 05, Kelurahan Sumbersari" in (back.text or "")
    assert labels(back) == ["✅ Tetap pakai", "✏️ Ubah"]
    group = await group_of(h, chat)
    assert group is not None and group.active and not group.subscribed
    await press(h, admin, back, "✅ Tetap pakai", chat)
    assert "Grup terdaftar" in (back.text or "")
    group = await group_of(h, chat)
    assert group is not None and group.subscribed and len(await groups(h)) == 1

    # Change instead: kicked and back once more, an admin picks "Ubah".
    h.world.kick_bot(chat, by=admin)
    await eventually(h, inactive)
    h.world.add_bot_to_group(chat, by=admin)
    back = await h.server.wait_for_message(
        chat, lambda m: "kembali" in (m.text or ""), after=back.message_id
    )
    await press(h, admin, back, "✏️ Ubah", chat)
    assert "Langkah 1 dari 4" in (back.text or "")


async def test_upgrade_to_supergroup_keeps_registration_under_the_new_id(
    kentongan: Harness,
) -> None:
    h = kentongan
    chat, admin, _ = setup_group(h)
    await h.server.wait_for_message(chat)
    confirm = await h.say(admin, "/daftar rw 5 sumbersari", chat)
    await press(h, admin, confirm, "✅ Simpan", chat)
    supergroup = h.world.migrate_to_supergroup(chat, by=admin)

    async def moved() -> bool:
        group = await group_of(h, supergroup)
        return group is not None and group.migrated_from_chat_id == chat.id

    await eventually(h, moved)
    status = await h.say(admin, "/status", supergroup)
    assert "terdaftar sebagai RW 05, Kelurahan Sumbersari" in (status.text or "")
    [group] = await groups(h)
    assert (group.chat_id, group.chat_type, group.subscribed) == (supergroup.id, "supergroup", True)
    migrations = [a for a in await audit(h) if a[0] == "group.migrate"]
    assert [(a[2], a[3]["from_chat"]) for a in migrations] == [(f"chat:{supergroup.id}", chat.id)]


async def test_deep_link_and_private_chat_help(kentongan: Harness) -> None:
    h = kentongan
    leader = h.world.add_user("Bu RW")
    menu = await h.say(leader, "/start")
    link = menu.button("➕ Tambahkan ke grup RT/RW")["url"]
    assert link == "https://t.me/kentongan_sandbox_bot?startgroup=daftar"
    help_ = await h.say(leader, "/daftar")
    assert "Mendaftarkan grup RT/RW" in (help_.text or "")
    assert help_.buttons()[0]["url"] == link

    chat = h.world.add_group("RW 07 Dinoyo", "group", admins=[leader])
    h.world.add_bot_to_group(chat, by=leader)
    await h.server.wait_for_message(chat)
    # Arriving through the link, Telegram sends "/start daftar" in the group for the user.
    flow = await h.say(leader, "/start@kentongan_sandbox_bot daftar", chat)
    assert "Langkah 1 dari 4" in (flow.text or "")
    member = h.world.add_user("Warga")
    join(chat, member, "member")
    helped = await h.say(member, "/bantuan", chat)
    assert "Perintah Kentongan di grup" in (helped.text or "")
    elsewhere = await h.say(member, "/status")
    assert "dipakai di grup" in (elsewhere.text or "")


async def test_grup_lists_coverage_for_officials_only_and_by_kecamatan(
    kentongan: Harness,
) -> None:
    h = kentongan
    chat, admin, member = setup_group(h)
    await h.server.wait_for_message(chat)
    confirm = await h.say(admin, "/daftar rw 5 sumbersari", chat)
    await press(h, admin, confirm, "✅ Simpan", chat)
    klojen_chat, klojen_admin, _ = setup_group(h)
    await h.server.wait_for_message(klojen_chat)
    confirm = await h.say(klojen_admin, "/daftar rt 1 rw 2 oro-oro dowo", klojen_chat)
    await press(h, klojen_admin, confirm, "✅ Simpan", klojen_chat)

    refused = await h.say(member, "/grup")
    assert "hanya untuk petugas" in (refused.text or "")
    in_group = await h.say(admin, "/grup", chat)
    assert "chat pribadi" in (in_group.text or "")

    official = h.admin()
    report = await h.say(official, "/grup")
    text = report.text or ""
    assert "Grup terdaftar — Kota Malang: 2 grup" in text
    assert "Kec. Lowokwaru: 1 grup (RW 1, RT 0); 1 dari 12 kelurahan" in text
    assert "• Sumbersari: RW 1, RT 0" in text
    assert "Kelurahan tanpa grup terdaftar (55)" in text
    assert "Kec. Lowokwaru: Dinoyo, Jatimulyo" in text

    listed = await h.say(official, "/grup sumbersari")
    assert "Kelurahan Sumbersari" in (listed.text or "")
    assert "• RW 05 — Warga RT 03 RW 05 (terdaftar)" in (listed.text or "")

    operator = h.world.add_user("Operator Klojen", started=True)
    async with h.services.sessions.begin() as session:
        session.add(
            Official(
                user_id=operator.id,
                role=OfficialRole.OPERATOR,
                kecamatan_code="35.73.02",
                added_at=datetime(2024, 11, 1, tzinfo=UTC),
            )
        )
    scoped = await h.say(operator, "/grup")
    text = scoped.text or ""
    assert "Grup terdaftar — Kecamatan Klojen: 1 grup" in text
    assert "Lowokwaru" not in text and "Sumbersari" not in text
    outside = await h.say(operator, "/grup sumbersari")
    assert "tidak ditemukan di Kecamatan Klojen" in (outside.text or "")
