"""The posko end to end: taking, closing and referring cases with the reporter told each time;
who may press; escalation on the test clock; a digest under a burst; /posko's refusals."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.field_jobs import check_due
from bot.field_posting import post_soon, poster
from bot.ui.callbacks import POSKO
from db.models import AuditEntry, CaseStatus, FieldCase, Group, Official, OfficialRole
from domain.field.reports import open_report
from sandbox.world import Chat, User
from tests.e2e.field_helpers import first_line, label, make_posko, posko_group, quick_report, reply
from tests.e2e.harness import Harness

LOWOKWARU = "35.73.05"  # registered_groups' kelurahan (Sumbersari) lies in it
KLOJEN = "35.73.02"


async def official(h: Harness, name: str, kecamatan: str | None, role: OfficialRole) -> User:
    user = h.world.add_user(name, started=True)
    async with h.services.sessions.begin() as session:
        session.add(
            Official(
                user_id=user.id, name=name, role=role, kecamatan_code=kecamatan, active=True,
                added_at=h.clock.now(), added_by=h.admin().id,
            )
        )  # fmt: skip
    return user


async def case_card(h: Harness, posko: Chat, case_id: int):  # type: ignore[no-untyped-def]
    return await h.server.wait_until(
        lambda: next(
            (m for m in h.world.bot_messages(posko) if f"Kasus #{case_id}" in (m.text or "")),
            None,
        )
    )


async def test_posko_takes_closes_and_refers_with_the_reporter_told(kentongan: Harness) -> None:
    h = kentongan
    lurah = await official(h, "Pak Camat Lowokwaru", LOWOKWARU, OfficialRole.OPERATOR)
    outsider = await official(h, "Bu Camat Klojen", KLOJEN, OfficialRole.ADMIN)
    resident = h.world.add_user("Warga")
    posko = posko_group(h, "Posko Kota", lurah, outsider, resident)
    await make_posko(h, posko)
    first, second = await h.registered_groups(2)
    await quick_report(h, first.admins()[0].user, first)
    reporter = second.admins()[0].user
    await quick_report(h, reporter, reporter, "💰 Dugaan politik uang", "Amplop dari tim X")
    card = await case_card(h, posko, 1)

    # Not an official, and an official of another kecamatan: refused, nothing changes.
    take = card.button("✋ Saya tangani")["callback_data"]
    answer = await h.server.wait_for_callback_answer(
        h.world.press_button(resident, posko, card.message_id, take)
    )
    assert answer.text == label(h, "ui.posko.tolak.bukan_petugas")
    answer = await h.server.wait_for_callback_answer(
        h.world.press_button(outsider, posko, card.message_id, take)
    )
    assert answer.text == label(h, "ui.posko.tolak.di_luar_wilayah")

    # Taken: the card shows who, the reporter's group hears of it.
    told_before = len(h.world.bot_messages(first))
    await h.press(lurah, card, "✋ Saya tangani", chat=posko)
    await h.server.wait_until(lambda: "Ditangani Pak Camat Lowokwaru" in (card.text or ""))
    told = await h.server.wait_for_message(
        first, after=h.world.bot_messages(first)[told_before - 1].message_id
    )
    assert first_line(h, "ui.lapor.kabar.ditangani", nomor=1) in (told.text or "")
    assert [b["text"] for b in card.buttons()] == ["✅ Selesai", "↪️ Bukan kewenangan Pemkot"]
    # A second official cannot take it again.
    root = h.admin()
    answer = await h.server.wait_for_callback_answer(h.forge_press(root, card, take))
    assert answer.text == label(
        h, "ui.posko.tolak.sudah_diambil", nomor=1, petugas="Pak Camat Lowokwaru"
    )

    # Selesai asks a note, typed as a reply; the reporter gets it.
    prompt = await h.press(lurah, card, "✅ Selesai", chat=posko)
    assert prompt is not None and "catatan singkat" in (prompt.text or "")
    last = h.world.last_bot_message(first)
    done = await reply(h, lurah, posko, prompt, "Kotak suara sudah diantar PPS pukul 10.00")
    assert first_line(h, "ui.posko.selesai_tercatat", nomor=1) in (done.text or "")
    told = await h.server.wait_for_message(first, after=last.message_id if last else 0)
    assert "selesai" in (told.text or "") and "diantar PPS" in (told.text or "")
    await h.server.wait_until(lambda: "Selesai (Pak Camat Lowokwaru)" in (card.text or ""))
    assert card.buttons() == []

    # Bukan kewenangan Pemkot: closed, the reporter (private chat) is pointed to Bawaslu.
    money = await case_card(h, posko, 2)
    last = h.world.last_bot_message(reporter)
    await h.press(root, money, "↪️ Bukan kewenangan Pemkot", chat=posko)
    told = await h.server.wait_for_message(reporter, after=last.message_id if last else 0)
    assert "bukan kewenangan Pemkot" in (told.text or "")
    assert "Panwaslu Kelurahan" in (told.text or "")
    async with h.services.sessions() as session:
        statuses = dict((await session.execute(select(FieldCase.id, FieldCase.status))).all())
        actions = (
            await session.scalars(select(AuditEntry.action).where(AuditEntry.target == "case:1"))
        ).all()
    assert statuses == {1: CaseStatus.DONE, 2: CaseStatus.REFERRED}
    assert list(actions) == ["case.baru", "case.ditangani", "case.selesai"]
    # A closed case's old button: refused in words.
    await h.server.wait_until(lambda: money.buttons() == [])
    forged = h.forge_press(root, money, POSKO.build("t", 2))
    answer = await h.server.wait_for_callback_answer(forged)
    assert answer.text == label(h, "ui.posko.tolak.sudah_ditutup", nomor=2)


async def test_posko_command_refusals(kentongan: Harness) -> None:
    h = kentongan
    operator = await official(h, "Operator", None, OfficialRole.OPERATOR)
    klojen = await official(h, "Admin Klojen", KLOJEN, OfficialRole.ADMIN)
    chat = posko_group(h, "Calon Posko", operator, klojen)
    no = await make_posko(h, chat, operator)
    assert first_line(h, "ui.posko.bukan_admin") in (no.text or "")
    no = await make_posko(h, chat, klojen, "Lowokwaru")
    assert first_line(h, "ui.posko.di_luar_wilayah") in (no.text or "")
    no = await make_posko(h, chat, args="Atlantis")
    assert "tidak dikenal" in (no.text or "")
    private = await h.say(h.admin(), "/posko")
    assert first_line(h, "ui.posko.hanya_grup") in (private.text or "")
    yes = await make_posko(h, chat, klojen)
    assert "Kec. Klojen" in (yes.text or "")


async def test_an_untaken_case_is_escalated_then_listed_again(kentongan: Harness) -> None:
    h = kentongan
    camat = await official(h, "Pak Camat", LOWOKWARU, OfficialRole.ADMIN)
    elsewhere = await official(h, "Bu Camat Klojen", KLOJEN, OfficialRole.ADMIN)
    root = h.admin()
    posko = posko_group(h)
    await make_posko(h, posko)
    [group] = await h.registered_groups(1)
    await quick_report(h, group.admins()[0].user, group)
    await case_card(h, posko, 1)

    h.clock.advance(timedelta(minutes=14))
    assert await check_due(h.app) == (0, 0)
    h.clock.advance(timedelta(minutes=2))
    assert await check_due(h.app) == (1, 0)
    for user in (camat, root):
        sent = await h.server.wait_for_message(user, lambda m: "Kasus #1" in (m.text or ""))
        assert "15 menit" in (sent.text or "") and sent.button("✋ Saya tangani")
    assert not any("Kasus #1" in (m.text or "") for m in h.world.bot_messages(elsewhere))
    assert await check_due(h.app) == (0, 0)  # once

    # Taken from the escalation in the private chat; still open after 2 hours: listed again.
    alert = h.world.last_bot_message(camat)
    assert alert is not None
    await h.press(camat, alert, "✋ Saya tangani")
    assert "Ditangani Pak Camat" in (alert.text or "")
    card = await case_card(h, posko, 1)
    await h.server.wait_until(lambda: "Ditangani Pak Camat" in (card.text or ""))
    h.clock.advance(timedelta(hours=2))
    assert await check_due(h.app) == (0, 1)
    listed = await h.server.wait_for_message(posko, lambda m: "masih terbuka" in (m.text or ""))
    assert "#1" in (listed.text or "")


async def test_a_burst_becomes_digests_and_nothing_is_dropped(kentongan: Harness) -> None:
    h = kentongan
    posko = posko_group(h)
    made = await make_posko(h, posko)
    groups = await h.registered_groups(45)
    async with h.services.sessions.begin() as session:
        ids = [g.id for g in (await session.scalars(select(Group).order_by(Group.id))).all()]
        for gid in ids:
            await open_report(
                session, group_id=gid, reporter_id=None, category="tps",
                description="TPS belum dibuka. " + "Warga menunggu di depan balai RW. " * 25,
                source="checkin:1", now=h.clock.now(),
            )  # fmt: skip
    post_soon(h.app, posko.id)
    await poster(h.app).idle()
    posted = [m for m in h.world.bot_messages(posko) if m.message_id > made.message_id]
    # 45 cases with long descriptions: a few digests (each within Telegram's 4096), not 45 cards
    assert 3 <= len(posted) <= 5
    assert all(len(m.text or "") <= 4096 for m in posted)
    listed = [n for m in posted for n in range(1, 46) if f"#{n} " in (m.text or "")]
    assert sorted(listed) == list(range(1, 46))  # every case once
    assert len(groups) == 45
    assert all("laporan baru" in (m.text or "") for m in posted)
    assert not [c for c in h.server.calls if c.status == 429]
    async with h.services.sessions() as session:
        waiting = (
            await session.scalars(select(FieldCase.id).where(FieldCase.posted_at.is_(None)))
        ).all()
    assert waiting == []
    # A digest's ✋ takes the case and gives it its own card in the posko.
    digest = posted[0]
    await h.press(h.admin(), digest, "✋ #1", chat=posko)
    card = await case_card(h, posko, 1)
    assert "Ditangani" in (card.text or "") and card.button("✅ Selesai")


async def test_lapangan_shows_the_board_as_text_csv_and_png(kentongan: Harness) -> None:
    h = kentongan
    klojen = await official(h, "Bu Camat Klojen", KLOJEN, OfficialRole.ADMIN)
    [group] = await h.registered_groups(1)
    await quick_report(h, group.admins()[0].user, group)
    h.clock.advance(timedelta(minutes=45))
    admin = h.admin()
    board = await h.say(admin, "/lapangan")
    text = board.text or ""
    assert "Laporan lapangan yang masih terbuka" in text and "Kec. Lowokwaru: 1 terbuka" in text
    assert "Sumbersari" in text and "45 menit" in text
    csv_file = await h.server.wait_for_message(admin, lambda m: m.document is not None)
    data = h.world.files[csv_file.document["file_id"]].data  # type: ignore[index]
    assert data.decode("utf-8-sig").splitlines()[1].startswith("1,Lowokwaru,Sumbersari")
    chart = await h.server.wait_for_message(admin, lambda m: bool(m.photo))
    assert chart.caption == label(h, "ui.lapangan.keterangan_grafik")
    # Scoped: Klojen's official sees none of Lowokwaru's cases; in a group it is refused.
    theirs = await h.say(klojen, "/lapangan")
    assert first_line(h, "ui.lapangan.kosong") in (theirs.text or "")
    no = await h.say(group.admins()[0].user, "/lapangan", group)
    assert "chat pribadi" in (no.text or "")
