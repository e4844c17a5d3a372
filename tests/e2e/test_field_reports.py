"""/lapor end to end through the local Bot API server: the guided flow with a photo, grouping,
every refusal, a restart mid-flow."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from db.models import FieldCase, FieldReport, Group
from sandbox.world import Member
from tests.e2e.field_helpers import (
    first_line,
    label,
    make_posko,
    posko_group,
    quick_report,
    reply,
    reply_photo,
)
from tests.e2e.harness import Harness


async def test_guided_report_with_photo_and_location_reaches_the_posko(
    kentongan: Harness,
) -> None:
    h = kentongan
    posko = posko_group(h)
    made = await make_posko(h, posko)
    assert first_line(h, "ui.posko.dijadikan", wilayah="Kota Malang") in (made.text or "")
    [group] = await h.registered_groups(1)
    leader = group.admins()[0].user

    start = await h.say(leader, "/lapor", group)
    assert "Laporan dari lapangan" in (start.text or "") and "RW 01" in (start.text or "")
    labels = [b["text"] for b in start.buttons()]
    assert "💰 Dugaan politik uang" in labels and "📦 Logistik rusak" in labels
    step = await h.press(leader, start, "📦 Logistik belum tiba", chat=group)
    assert step is not None and "Nomor TPS" in (step.text or "")
    # A word is not a TPS number: asked again, nothing lost.
    again = await reply(h, leader, group, step, "tujuh")
    assert first_line(h, "ui.lapor.tps_salah") in (again.text or "")
    step = await reply(h, leader, group, step, "TPS 07")
    assert "Tuliskan singkat" in (step.text or "")
    # Too long: refused, the category and TPS stay.
    long = await reply(h, leader, group, step, "x" * 1001)
    assert "1001 huruf" in (long.text or "")
    step = await reply(
        h, leader, group, step, "Kotak suara belum datang. Kata petugas NIK 3573051234560001"
    )
    assert "foto" in (step.text or "")
    got = await reply_photo(h, leader, group, step)
    assert first_line(h, "ui.lapor.foto_diterima", jumlah=1) in (got.text or "")
    # A file that is not a photo is refused, the photo already sent stays.
    last = h.world.last_bot_message(group)
    h.world.user_sends_document(leader, group, "laporan.pdf", b"%PDF-1.4", reply_to=step)
    refused = await h.server.wait_for_message(group, after=last.message_id if last else 0)
    assert first_line(h, "ui.lapor.bukan_foto") in (refused.text or "")
    last = h.world.last_bot_message(group)
    h.world.user_sends_location(leader, group, -7.9666, 112.6326, reply_to=step)
    located = await h.server.wait_for_message(group, after=last.message_id if last else 0)
    assert first_line(h, "ui.lapor.lokasi_diterima") in (located.text or "")

    summary = await h.press(leader, located, label(h, "ui.lapor.tombol_lanjut"), chat=group)
    assert summary is not None
    text = summary.text or ""
    assert "Logistik belum tiba" in text and "TPS: 7" in text and "1 foto, lokasi" in text
    done = await h.press(leader, summary, label(h, "ui.lapor.tombol_kirim"), chat=group)
    assert done is not None and "Laporan #1 diterima" in (done.text or "")

    card = await h.server.wait_for_message(posko, lambda m: bool(m.photo), after=made.message_id)
    caption = card.caption or ""
    assert "Kasus #1" in caption and "Logistik belum tiba" in caption and "TPS 7" in caption
    assert "[NIK disembunyikan]" in caption and "3573051234560001" not in caption
    assert [b["text"] for b in card.buttons()] == [
        "✋ Saya tangani", "✅ Selesai", "↪️ Bukan kewenangan Pemkot",
    ]  # fmt: skip
    async with h.services.sessions() as session:
        report = (await session.scalars(select(FieldReport))).one()
    assert report.photos and report.photos[0] == card.photo[-1]["file_id"]  # type: ignore[index]
    assert report.latitude == -7.9666 and report.tps == "7" and report.detail == "belum_tiba"
    assert report.source == "lapor" and report.source_chat_id == group.id
    assert report.description is not None and "[NIK disembunyikan]" in report.description
    # Never re-broadcast: the report appears in the posko only.
    assert all("Kotak suara" not in (m.text or "") for m in h.world.bot_messages(group))


async def test_two_leaders_of_one_rw_make_one_case(kentongan: Harness) -> None:
    h = kentongan
    posko = posko_group(h)
    await make_posko(h, posko)
    first, second = await h.registered_groups(2)
    async with h.services.sessions.begin() as session:  # both groups are RW 01's
        await session.execute(update(Group).values(rw=1))
    a = await quick_report(h, first.admins()[0].user, first)
    assert "Laporan #1 diterima" in (a.text or "")
    # The second leader reports from the private chat: the bot knows which group they lead.
    leader = second.admins()[0].user
    b = await quick_report(h, leader, leader, description="Kotak suara belum sampai TPS")
    assert "Laporan #2 diterima" in (b.text or "") and "kasus #1" in (b.text or "")
    async with h.services.sessions() as session:
        cases = (await session.scalars(select(FieldCase))).all()
    assert [(c.id, c.report_count) for c in cases] == [(1, 2)]
    card = await h.server.wait_until(
        lambda: [m for m in h.world.bot_messages(posko) if "Kasus #1" in (m.text or "")]
    )
    assert len(card) == 1  # one card for the case, redrawn with the count
    await h.server.wait_until(lambda: "2 laporan" in (card[0].text or ""))


async def test_refusals_say_what_to_do_and_lose_nothing(kentongan: Harness) -> None:
    h = kentongan
    [group] = await h.registered_groups(1, members=1)
    leader = group.admins()[0].user
    member = next(m.user for m in group.members.values() if not m.is_admin)
    # A member is not the group's admin.
    no = await h.say(member, "/lapor", group)
    assert first_line(h, "ui.lapor.bukan_admin") in (no.text or "")
    # An unregistered group.
    stranger = h.world.add_user("Pak Ketua")
    other = h.world.add_group("RT 9", "supergroup", admins=[stranger], bot="member")
    no = await h.say(stranger, "/lapor", other)
    assert first_line(h, "ui.lapor.grup_belum_terdaftar") in (no.text or "")
    # In private chat, someone the bot knows leads no group.
    no = await h.say(stranger, "/lapor")
    assert first_line(h, "ui.lapor.tidak_ada_grup") in (no.text or "")
    # Half-way, then /lapor again: resume or start anew; cancel makes old buttons stale.
    start = await h.say(leader, "/lapor", group)
    step = await h.press(leader, start, "🚨 Gangguan keamanan atau ketertiban", chat=group)
    assert step is not None
    offer = await h.say(leader, "/lapor", group)
    assert "belum selesai" in (offer.text or "")
    resumed = await h.press(leader, offer, label(h, "ui.lapor.tombol_lanjutkan"), chat=group)
    assert resumed is not None and "Nomor TPS" in (resumed.text or "")
    # Someone else pressing the leader's buttons: refused, nothing changes.
    query = h.world.press_button(
        member,
        group,
        resumed.message_id,
        resumed.button(label(h, "ui.lapor.tombol_lewati"))["callback_data"],
    )
    answer = await h.server.wait_for_callback_answer(query)
    assert answer.text == label(h, "ui.lapor.tombol_lama")
    cancelled = await h.press(leader, resumed, "❌ Batal", chat=group)
    assert cancelled is not None and first_line(h, "ui.lapor.dibatalkan") in (cancelled.text or "")
    stale = h.forge_press(leader, start, start.buttons()[0]["callback_data"])
    answer = await h.server.wait_for_callback_answer(stale)
    assert answer.text == label(h, "ui.lapor.tombol_lama")
    async with h.services.sessions() as session:
        assert (await session.scalars(select(FieldReport))).all() == []


async def test_a_report_half_way_survives_a_restart(kentongan: Harness) -> None:
    h = kentongan
    [group] = await h.registered_groups(1)
    leader = group.admins()[0].user
    start = await h.say(leader, "/lapor", group)
    step = await h.press(leader, start, "🌧️ Cuaca, banjir atau listrik", chat=group)
    assert step is not None
    step = await h.press(leader, step, label(h, "ui.lapor.tombol_lewati"), chat=group)
    assert step is not None
    await h.restart()
    step = await reply(h, leader, group, step, "Banjir setinggi lutut di depan TPS")
    assert "foto" in (step.text or "")
    summary = await h.press(leader, step, label(h, "ui.lapor.tombol_lanjut"), chat=group)
    assert summary is not None and "Banjir setinggi lutut" in (summary.text or "")
    done = await h.press(leader, summary, label(h, "ui.lapor.tombol_kirim"), chat=group)
    assert done is not None and "Laporan #1 diterima" in (done.text or "")


async def test_private_chat_asks_which_group_and_an_old_flow_expires(kentongan: Harness) -> None:
    h = kentongan
    first, second = await h.registered_groups(2)
    leader = first.admins()[0].user
    # The same leader registered and leads the second group too.
    second.members[leader.id] = Member(leader, "administrator")
    async with h.services.sessions.begin() as session:
        await session.execute(
            update(Group).where(Group.chat_id == second.id).values(subscribed_by=leader.id)
        )
    ask = await h.say(leader, "/lapor")
    assert first_line(h, "ui.lapor.pilih_grup") in (ask.text or "")
    assert [b["text"] for b in ask.buttons()][:2] == ["RW 01", "RW 02"]
    step = await h.press(leader, ask, "RW 02")
    assert step is not None and "RW 02" in (step.text or "")
    # Left for longer than the flow lives: its buttons say so, /lapor starts afresh.
    h.clock.advance(timedelta(hours=13))
    query = h.world.press_button(
        leader,
        leader,
        step.message_id,
        step.button("🏫 TPS belum dibuka atau pindah")["callback_data"],
    )
    answer = await h.server.wait_for_callback_answer(query)
    assert answer.text == label(h, "ui.lapor.kedaluwarsa")
    again = await h.say(leader, "/lapor")
    assert first_line(h, "ui.lapor.pilih_grup") in (again.text or "")
