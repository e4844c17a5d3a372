"""Bad input through Telegram (issue 10): answered in Indonesian, never echoed as HTML or repr,
CSV files refused by line and never half-imported, a failed handler ends with an apology."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import Neighbourhood, Tps
from sandbox import Fault
from tests.e2e.harness import Harness


async def test_a_failed_handler_ends_with_an_apology(kentongan: Harness) -> None:
    h = kentongan
    admin = h.admin()
    h.server.add_fault(Fault("server_error", method="getFile", times=1))
    h.world.user_sends_document(
        admin, None, "rt.csv", b"kelurahan,rw\nSumbersari,1\n", caption="/cakupan"
    )
    reply = await h.server.wait_for_message(admin)
    assert "Maaf, terjadi kesalahan" in (reply.text or "")
    assert "Error" not in (reply.text or "") and "502" not in (reply.text or "")


async def test_typed_text_is_echoed_escaped_and_without_repr(kentongan: Harness) -> None:
    h = kentongan
    admin = h.admin()
    reply = await h.say(admin, "/cakupan <b>x</b>")
    assert "“<b>x</b>”" in (reply.text or "")  # shown as typed, not rendered bold
    assert not reply.entities or all(e["type"] != "bold" for e in reply.entities)
    reply = await h.say(admin, '/cakupan O\'Brien "kutip"')
    assert '“O\'Brien "kutip"”' in (reply.text or "") and "\\'" not in (reply.text or "")


async def test_coverage_csv_with_an_unterminated_quote_is_refused_by_line(
    kentongan: Harness,
) -> None:
    h = kentongan
    admin = h.admin()
    data = b'kelurahan,rw,rt\nSumbersari,1,1\nSumbersari,2,"3\nSumbersari,4,1\n'
    h.world.user_sends_document(admin, None, "rt.csv", data, caption="/cakupan")
    reply = await h.server.wait_for_message(admin)
    body = reply.text or ""
    assert "tidak diimpor" in body and "baris 3" in body and "tanda kutip" in body
    huge = b"kelurahan,rw,rt\nSumbersari,1,1\nSumbersari," + b"9" * 1_000_000 + b",1\n"
    h.world.user_sends_document(admin, None, "rt.csv", huge, caption="/cakupan")
    reply = await h.server.wait_for_message(admin, after=reply.message_id)
    assert "baris 3" in (reply.text or "") and "lebih dari" in (reply.text or "")
    utf16 = "kelurahan,rw\nSumbersari,1\n".encode("utf-16")
    h.world.user_sends_document(admin, None, "rt.csv", utf16, caption="/cakupan")
    reply = await h.server.wait_for_message(admin, after=reply.message_id)
    assert "pengodean salah" in (reply.text or "")
    async with h.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Neighbourhood)) == 0


async def test_tps_csv_with_a_huge_field_imports_nothing(kentongan: Harness) -> None:
    h = kentongan
    admin = h.admin()
    good = "Sumbersari,1,Jl. Mawar 1,1,,\n"
    data = (
        "kelurahan,tps,alamat,rw,rt,peta\n"
        + good
        + 'Sumbersari,2,"Jl. '
        + "x" * 300_000
        + '",2,,\n'
    ).encode()
    h.world.user_sends_document(admin, None, "tps.csv", data)
    reply = await h.server.wait_for_message(admin)
    assert "baris 3" in (reply.text or "") and "karakter" in (reply.text or "")
    async with h.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Tps)) == 0


async def test_a_nik_past_character_2000_is_found(kentongan: Harness) -> None:
    h = kentongan
    warga = h.world.add_user("Warga", started=True)
    sent = h.world.user_sends(warga, None, "kapan coblos " * 300 + " NIK 3573051234560001")
    reply = await h.server.wait_for_message(warga)
    assert "jangan kirim NIK" in (reply.text or "")
    assert h.world.chats[warga.id].messages[sent.message_id].deleted


async def test_daftar_one_line_with_a_huge_rt_says_so(kentongan: Harness) -> None:
    h = kentongan
    leader = h.world.add_user("Ketua RW")
    group = h.world.add_group("RW 05", "supergroup", admins=[leader], bot="member")
    reply = await h.say(leader, "/daftar rt 999999999999 rw 5 sumbersari", group)
    assert "RT “999999999999” tidak mungkin" in (reply.text or "")
