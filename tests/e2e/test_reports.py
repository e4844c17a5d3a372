"""Officials' reports through the local Bot API server: /laporan, /belum and its nudge, /cakupan."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from db.models import (
    AuditEntry,
    Broadcast,
    BroadcastSource,
    Neighbourhood,
    Official,
    OfficialRole,
)
from sandbox import Chat, Member, Message, User
from tests.e2e.harness import Harness
from tests.e2e.test_acks import (
    THANKS,
    db_rows,
    forged_answer,
    group_in_world,
    press_ack,
    register,
    send_broadcast,
)

ORO_ORO_DOWO = "35.73.02.1008"  # Kecamatan Klojen
SUMBERSARI = "35.73.05.1005"  # Kecamatan Lowokwaru
LOWOKWARU = "35.73.05"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class City:
    """Six groups in two kelurahan, one broadcast, some acknowledgements.

    Oro-oro Dowo: RT 01/RW 03 (the leader pressed), RT 02/RW 03 (a member pressed), RW 03 (no one).
    Sumbersari: RT 01/RW 05 (no one), RW 05 (the leader pressed), RT 02/RW 05 (bot kicked: failed).
    """

    broadcast_id: int
    groups: dict[str, Chat]
    leaders: dict[str, User]
    member: User


async def city(h: Harness) -> City:
    leaders = {
        name: h.world.add_user(f"Ketua {name}")
        for name in ("ood1", "ood2", "ood", "sb1", "sb", "sb2")
    }
    member = h.world.add_user("Warga")
    places = {
        "ood1": ("RT 01 RW 03 Oro-oro Dowo", ORO_ORO_DOWO, 3, 1),
        "ood2": ("RT 02 RW 03 Oro-oro Dowo", ORO_ORO_DOWO, 3, 2),
        "ood": ("RW 03 Oro-oro Dowo", ORO_ORO_DOWO, 3, None),
        "sb1": ("RT 01 RW 05 Sumbersari", SUMBERSARI, 5, 1),
        "sb": ("RW 05 Sumbersari", SUMBERSARI, 5, None),
        "sb2": ("RT 02 RW 05 Sumbersari", SUMBERSARI, 5, 2),
    }
    groups: dict[str, Chat] = {}
    for name, (title, kelurahan, rw, rt) in places.items():
        groups[name] = group_in_world(h, title, admins=[leaders[name]], members=[member])
        await register(h, groups[name], kelurahan, rw=rw, rt=rt)
    groups["sb2"].bot_member = Member(h.world.bot, "kicked")  # the send fails with 403
    broadcast_id = await send_broadcast(h, "<b>Besok ke TPS</b>, bawa KTP-el.")
    assert await press_ack(h, leaders["ood1"], groups["ood1"], broadcast_id) == THANKS
    assert await press_ack(h, member, groups["ood2"], broadcast_id) == THANKS
    assert await press_ack(h, leaders["sb"], groups["sb"], broadcast_id) == THANKS
    await h.server.wait_until(
        lambda: db_rows(h, "SELECT count(*) FROM acknowledgements WHERE is_admin")[0][0] == 2
    )
    return City(broadcast_id, groups, leaders, member)


async def report_messages(h: Harness, user: User, command: str) -> tuple[Message, Message, Message]:
    """The text, chart and CSV that `/laporan …` answers with."""
    text = await h.say(user, command)
    photo = await h.server.wait_for_message(
        user, lambda m: m.photo is not None, after=text.message_id
    )
    document = await h.server.wait_for_message(
        user, lambda m: m.document is not None, after=photo.message_id
    )
    return text, photo, document


def file_bytes(h: Harness, file_id: str) -> bytes:
    return h.world.files[file_id].data


def csv_rows(h: Harness, message: Message) -> list[dict[str, str]]:
    assert message.document is not None
    data = file_bytes(h, message.document["file_id"])
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read the text as UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def add_operator(h: Harness, kecamatan: str) -> User:
    operator = h.world.add_user("Operator Lowokwaru", started=True)
    async with h.services.sessions.begin() as session:
        session.add(
            Official(
                user_id=operator.id,
                name="Operator Lowokwaru",
                role=OfficialRole.OPERATOR,
                kecamatan_code=kecamatan,
                added_at=h.clock.now(),
            )
        )
    return operator


# -- /laporan ---------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_report_text_chart_and_csv_match_the_scenario(kentongan: Harness) -> None:
    h = kentongan
    c = await city(h)
    admin = h.admin()

    text, photo, document = await report_messages(h, admin, f"/laporan {c.broadcast_id}")

    body = text.text or ""
    assert f"Laporan siaran #{c.broadcast_id}" in body
    assert "6 grup dituju · 5 terkirim · 1 gagal" in body
    assert "Sudah dibaca: 3 grup (60%)" in body
    assert "Ketua konfirmasi: 2 grup (40%)" in body
    assert "Kec. Klojen: 3/3 · 2 (67%) · 1" in body
    assert "Oro-oro Dowo: 3/3 · 2 (67%) · 1" in body
    assert "Kec. Lowokwaru: 2/3 · 1 (50%) · 1" in body
    assert "Sumbersari: 2/3 · 1 (50%) · 1" in body

    assert photo.photo is not None
    png = file_bytes(h, photo.photo[-1]["file_id"])
    assert png.startswith(PNG_MAGIC)
    assert 10_000 < len(png) < 1_000_000
    assert 800 <= photo.photo[-1]["width"] <= 1400 and 300 <= photo.photo[-1]["height"] <= 3000

    rows = csv_rows(h, document)
    assert document.document is not None
    assert document.document["file_name"] == f"laporan-siaran-{c.broadcast_id}.csv"
    assert list(rows[0]) == [
        "kecamatan", "kelurahan", "tingkat", "rw", "rt", "nama_grup", "chat_id", "status_kirim",
        "waktu_kirim_wib", "jumlah_konfirmasi", "ketua_konfirmasi", "galat_terakhir",
    ]  # fmt: skip
    by_title = {r["nama_grup"]: r for r in rows}
    assert len(rows) == 6
    assert by_title["RT 01 RW 03 Oro-oro Dowo"] | {} == {
        "kecamatan": "Klojen",
        "kelurahan": "Oro-oro Dowo",
        "tingkat": "RT",
        "rw": "3",
        "rt": "1",
        "nama_grup": "RT 01 RW 03 Oro-oro Dowo",
        "chat_id": str(c.groups["ood1"].id),
        "status_kirim": "terkirim",
        "waktu_kirim_wib": "2024-11-25 08:00",
        "jumlah_konfirmasi": "1",
        "ketua_konfirmasi": "ya",
        "galat_terakhir": "",
    }
    assert by_title["RT 02 RW 03 Oro-oro Dowo"]["ketua_konfirmasi"] == "tidak"
    assert by_title["RW 03 Oro-oro Dowo"]["jumlah_konfirmasi"] == "0"
    failed = by_title["RT 02 RW 05 Sumbersari"]
    assert failed["status_kirim"] == "gagal" and "kicked" in failed["galat_terakhir"]
    assert failed["waktu_kirim_wib"] == ""


async def test_report_of_the_latest_and_the_list_of_broadcasts(kentongan: Harness) -> None:
    h = kentongan
    c = await city(h)
    second = await send_broadcast(h, "<b>TPS buka</b> pukul 07.00.")
    admin = h.admin()

    text, _, _ = await report_messages(h, admin, "/laporan")
    assert f"Laporan siaran #{second}" in (text.text or "")
    listing = await h.press(admin, text, "📋 Siaran lain")
    assert listing is not None
    labels = [b["text"] for b in listing.buttons()]
    assert labels[0].startswith(f"#{second} TPS buka") and labels[1].startswith(
        f"#{c.broadcast_id} Besok ke TPS"
    )
    older = await h.press(admin, listing, labels[1])
    assert older is not None and f"Laporan siaran #{c.broadcast_id}" in (older.text or "")
    await h.server.wait_for_message(admin, lambda m: m.document is not None, after=older.message_id)

    assert "harus angka" in ((await h.say(admin, "/laporan dua belas")).text or "")
    assert "tidak ditemukan" in ((await h.say(admin, "/laporan 999")).text or "")


async def test_residents_and_group_chats_are_refused_politely(kentongan: Harness) -> None:
    h = kentongan
    c = await city(h)
    resident = h.world.add_user("Pak Tetangga")
    reply = await h.say(resident, f"/laporan {c.broadcast_id}")
    assert "hanya untuk petugas" in (reply.text or "")
    reply = await h.say(resident, "/belum")
    assert "hanya untuk petugas" in (reply.text or "")
    reply = await h.say(c.leaders["ood1"], "/laporan", c.groups["ood1"])
    assert "chat pribadi" in (reply.text or "")


# -- /belum and the nudge ---------------------------------------------------------------------


async def test_nudge_reaches_only_the_groups_that_have_not_acknowledged(kentongan: Harness) -> None:
    h = kentongan
    c = await city(h)
    admin = h.admin()
    before = {name: len(h.world.bot_messages(chat)) for name, chat in c.groups.items()}

    listing = await h.say(admin, f"/belum {c.broadcast_id}")
    body = listing.text or ""
    assert "2 dari 5 grup penerima belum" in body
    assert "Oro-oro Dowo (Klojen, 1): RW 03" in body
    assert "Sumbersari (Lowokwaru, 1): RT 01/RW 05" in body
    assert "1 grup gagal dikirimi" in body

    sent = await h.press(admin, listing, "🔔 Kirim pengingat ke 2 grup")
    assert sent is not None and await _shown(h, admin, listing, "sedang dikirim ke 2 grup")
    for name in ("ood", "sb1"):
        nudge = await h.server.wait_for_message(
            c.groups[name], lambda m: "Pengingat dari Pemerintah" in (m.text or "")
        )
        assert "Besok ke TPS" in (nudge.text or "")  # the original text, quoted
        assert nudge.buttons()[0]["text"] == "✅ Sudah dibaca"
    finished = await h.server.wait_for_message(admin, lambda m: "selesai" in (m.text or ""))
    assert "terkirim 2" in (finished.text or "")
    after = {name: len(h.world.bot_messages(chat)) for name, chat in c.groups.items()}
    assert {n: after[n] - before[n] for n in after} == {
        "ood1": 0, "ood2": 0, "ood": 1, "sb1": 1, "sb": 0, "sb2": 0,
    }  # fmt: skip

    async with h.services.sessions() as session:
        follow_up = (
            await session.scalars(select(Broadcast).where(Broadcast.parent_id == c.broadcast_id))
        ).one()
        audit = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "broadcast.follow_up")
            )
        ).one()
    assert follow_up.source is BroadcastSource.FOLLOW_UP
    assert follow_up.audience == f"unacked:{c.broadcast_id}" and follow_up.created_by == admin.id
    assert audit.actor_id == admin.id and audit.target == f"broadcast:{c.broadcast_id}"

    # Acknowledging the nudge counts for the original broadcast.
    assert await press_ack(h, c.member, c.groups["ood"], follow_up.id) == THANKS
    listing = await h.say(admin, f"/belum {c.broadcast_id}")
    assert "1 dari 5 grup penerima belum" in (listing.text or "")
    assert "Oro-oro Dowo" not in (listing.text or "")

    # Once per broadcast, unless the official confirms a second nudge.
    again = await h.press(admin, listing, "🔔 Kirim pengingat ke 1 grup")
    assert again is not None and "sudah dikirim" in (again.text or "")
    confirmed = await h.press(admin, again, "🔔 Ya, kirim lagi")
    assert confirmed is not None and await _shown(h, admin, again, "sedang dikirim ke 1 grup")
    await h.server.wait_for_message(
        c.groups["sb1"],
        lambda m: "Pengingat" in (m.text or ""),
        after=h.world.bot_messages(c.groups["sb1"])[-2].message_id,
    )
    assert len(h.world.bot_messages(c.groups["ood"])) == after["ood"]


# -- an operator's scope ----------------------------------------------------------------------


async def test_an_operator_sees_only_their_kecamatan_and_cannot_nudge(kentongan: Harness) -> None:
    h = kentongan
    c = await city(h)
    operator = await add_operator(h, LOWOKWARU)

    text, photo, document = await report_messages(h, operator, f"/laporan {c.broadcast_id}")
    body = text.text or ""
    assert "Kecamatan Lowokwaru" in body
    assert "3 grup dituju · 2 terkirim · 1 gagal" in body
    assert "Klojen" not in body and "Oro-oro Dowo" not in body
    assert {r["kelurahan"] for r in csv_rows(h, document)} == {"Sumbersari"}
    assert photo.photo is not None

    listing = await h.say(operator, f"/belum {c.broadcast_id}")
    assert "1 dari 2 grup penerima belum" in (listing.text or "")
    assert "Hanya admin yang dapat mengirim pengingat" in (listing.text or "")
    assert [b["text"] for b in listing.buttons()] == ["📊 Laporan"]

    # A nudge button an operator should never have had: refused, nothing created.
    query_id = h.world.press_button(
        operator, operator, listing.message_id, listing.buttons()[0]["callback_data"]
    )
    await h.server.wait_for_callback_answer(query_id)
    answer = await forged_answer(h, operator, listing, f"l:n:{c.broadcast_id}")
    assert answer == "Hanya admin yang dapat mengirim pengingat."
    async with h.services.sessions() as session:
        assert (
            await session.scalars(select(Broadcast).where(Broadcast.parent_id.is_not(None)))
        ).all() == []


# -- /cakupan ---------------------------------------------------------------------------------


async def test_coverage_import_and_report(kentongan: Harness) -> None:
    h = kentongan
    await city(h)
    admin = h.admin()

    bad = (
        b"kelurahan,rw,rt\n"
        b"Oro-oro Dowo,3,1\n"
        b"Kelurahan Entah,1,1\n"
        b"Sumbersari,lima,\n"
        b"Oro-oro Dowo,3,4\n"
    )
    h.world.user_sends_document(admin, None, "rt.csv", bad, caption="/cakupan")
    reply = await h.server.wait_for_message(admin, lambda m: "tidak diimpor" in (m.text or ""))
    assert "baris 3:" in (reply.text or "") and "baris 4:" in (reply.text or "")
    assert "baris 2" not in (reply.text or "") and "baris 5" not in (reply.text or "")
    async with h.services.sessions() as session:
        assert (await session.scalars(select(Neighbourhood))).all() == []

    good = (
        b"Kelurahan;RW;RT\n"
        b"Oro-oro Dowo;03;01\n"
        b"oro oro dowo;03;02\n"
        b"35.73.02.1008;03;03\n"
        b"Oro-oro Dowo;04;\n"
        b"Sumbersari;5;1\n"
        b"Sumbersari;RW 05;RT 03\n"
    )
    last = h.world.last_bot_message(admin)
    h.world.user_sends_document(admin, None, "rt-rw.csv", good, caption="/cakupan")
    imported = await h.server.wait_for_message(
        admin, lambda m: "diimpor" in (m.text or ""), after=last.message_id if last else 0
    )
    assert "2 kelurahan, 3 RW, 5 RT" in (imported.text or "")

    summary = await h.say(admin, "/cakupan")
    body = summary.text or ""
    assert "RW punya grup: 2/3" in body and "RT punya grup: 3/5" in body
    assert "Oro-oro Dowo: 1/2 · 2/3" in body and "Sumbersari: 1/1 · 1/2" in body
    document = await h.server.wait_for_message(
        admin, lambda m: m.document is not None, after=summary.message_id
    )
    chart = await h.server.wait_for_message(
        admin, lambda m: m.photo is not None, after=document.message_id
    )
    assert "Corong per kelurahan" in (chart.caption or "")
    rows = csv_rows(h, document)
    missing = {(r["kelurahan"], r["rw"], r["rt"]) for r in rows if r["ada_grup"] == "tidak"}
    assert missing == {
        ("Oro-oro Dowo", "3", "3"),
        ("Oro-oro Dowo", "4", ""),
        ("Sumbersari", "5", "3"),
    }

    detail = await h.say(admin, "/cakupan oro oro dowo")
    assert "RW 04; RW 03: RT 03" in (detail.text or "")


async def test_an_operator_imports_only_within_their_kecamatan(kentongan: Harness) -> None:
    h = kentongan
    operator = await add_operator(h, LOWOKWARU)
    data = b"kelurahan,rw,rt\nSumbersari,5,1\nOro-oro Dowo,3,1\n"
    h.world.user_sends_document(operator, None, "rt.csv", data, caption="/cakupan")
    reply = await h.server.wait_for_message(operator, lambda m: "tidak diimpor" in (m.text or ""))
    assert "baris 3: kelurahan ini di luar wilayah Anda" in (reply.text or "")
    summary = await h.say(operator, "/cakupan")
    assert "Kecamatan Lowokwaru" in (summary.text or "")
    assert "belum diimpor" in (summary.text or "")


async def _shown(h: Harness, admin: User, screen: Message, words: str) -> bool:
    """The pressed screen (edited in place) or a message after it says `words`. The nudge may
    finish, and its "selesai" notice arrive, before the press's own answer is read."""

    def found() -> bool | None:
        messages = [screen, *h.world.bot_messages(admin)]
        return any(words in (m.text or "") for m in messages) or None

    return bool(await h.server.wait_until(found))
