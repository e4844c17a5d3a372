"""Officials by level (issue 15): a lurah's staff sees and acts on their kelurahan only.

A camat adds the lurah with `/petugas tambah ID PERAN KODE-KELURAHAN`; the lurah's /laporan,
/belum, /grup and /petugas show Sumbersari and nothing else of Lowokwaru or the city, and the
authority rules of issue 10 still hold (a kelurahan admin cannot re-role the camat).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.models import OfficialRole
from domain.broadcasts import _audience_for
from domain.errors import PermissionDenied
from domain.officials import Actor
from messages.telegram_html import visible_text
from tests.authority_fixtures import seed_official
from tests.e2e.harness import running_kentongan
from tests.e2e.test_acks import THANKS, group_in_world, press_ack, register, send_broadcast
from tests.e2e.test_reports import csv_rows, report_messages

BEFORE_MASA_TENANG = datetime(2024, 11, 22, 2, 0, tzinfo=UTC)
LOWOKWARU, SUMBERSARI, DINOYO = "35.73.05", "35.73.05.1005", "35.73.05.1004"
ORO_ORO_DOWO = "35.73.02.1008"
CAMAT, LURAH, LURAH_ADMIN = 930001, 930002, 930003


async def test_a_lurah_sees_only_their_kelurahan(tmp_path: Path) -> None:
    async with running_kentongan(tmp_path, now=BEFORE_MASA_TENANG) as h:
        now = h.clock.now()
        async with h.services.sessions.begin() as session:
            await seed_official(session, CAMAT, OfficialRole.ADMIN, now, kecamatan_code=LOWOKWARU)
        camat = h.world.add_user("Pak Camat", user_id=CAMAT, started=True)
        lurah = h.world.add_user("Bu Lurah", user_id=LURAH, started=True)
        leaders = {n: h.world.add_user(f"Ketua {n}") for n in ("sb1", "sb2", "dn", "ood")}
        places = {
            "sb1": ("RW 01 Sumbersari", SUMBERSARI, 1),
            "sb2": ("RW 02 Sumbersari", SUMBERSARI, 2),
            "dn": ("RW 01 Dinoyo", DINOYO, 1),
            "ood": ("RW 03 Oro-oro Dowo", ORO_ORO_DOWO, 3),
        }
        groups = {}
        for name, (title, kelurahan, rw) in places.items():
            groups[name] = group_in_world(h, title, admins=[leaders[name]])
            await register(h, groups[name], kelurahan, rw=rw)
        broadcast_id = await send_broadcast(h, "<b>Besok ke TPS</b>, bawa KTP-el.")
        assert await press_ack(h, leaders["sb1"], groups["sb1"], broadcast_id) == THANKS

        # The camat places a lurah's operator; a kelurahan outside Lowokwaru is refused.
        reply = await h.say(camat, f"/petugas tambah {LURAH} operator {SUMBERSARI}")
        assert f"{LURAH} sekarang operator untuk kelurahan {SUMBERSARI}" in visible_text(reply.text)
        reply = await h.say(camat, f"/petugas tambah 930009 operator {ORO_ORO_DOWO}")
        assert "di luar wewenang" in (reply.text or "")
        reply = await h.say(camat, "/petugas tambah 930010 operator 35.73.05.9999")
        assert "tidak dikenal" in (reply.text or "") or "tidak ada" in (reply.text or "")

        report, _, document = await report_messages(h, lurah, f"/laporan {broadcast_id}")
        assert {r["kelurahan"] for r in csv_rows(h, document)} == {"Sumbersari"}
        body = visible_text(report.text)
        assert "Kelurahan Sumbersari" in body and "2 grup dituju" in body
        assert "Dinoyo" not in body and "Oro-oro Dowo" not in body

        listing = await h.say(lurah, f"/belum {broadcast_id}")
        body = visible_text(listing.text)
        assert "1 dari 2 grup penerima belum" in body
        assert "Sumbersari (Lowokwaru, 1): RW 02" in body and "Dinoyo" not in body

        groups_reply = await h.say(lurah, "/grup")
        body = visible_text(groups_reply.text)
        assert "Kelurahan Sumbersari" in body and "Dinoyo" not in body
        assert "Kota Malang" not in body.split("\n")[0]
        reply = await h.say(lurah, "/grup dinoyo")
        assert "tidak ditemukan" in (reply.text or "")

        officials = await h.say(lurah, "/petugas")
        assert str(CAMAT) not in (officials.text or "")
        assert f"kel. {SUMBERSARI}" in visible_text(officials.text)

        # A kelurahan admin stands below the camat: cannot re-role or remove them.
        async with h.services.sessions.begin() as session:
            await seed_official(
                session, LURAH_ADMIN, OfficialRole.ADMIN, now, kecamatan_code=LOWOKWARU
            )
        async with h.services.sessions.begin() as session:
            from db.models import Official

            row = await session.get(Official, LURAH_ADMIN)
            assert row is not None
            row.kelurahan_code = SUMBERSARI
        lurah_admin = h.world.add_user("Pak Lurah", user_id=LURAH_ADMIN, started=True)
        reply = await h.say(lurah_admin, f"/petugas tambah {CAMAT} operator {SUMBERSARI}")
        assert "di luar wilayah" in (reply.text or "")
        reply = await h.say(lurah_admin, f"/petugas hapus {CAMAT}")
        assert "di luar wilayah" in (reply.text or "")


def test_a_lurah_may_address_only_their_kelurahan() -> None:
    lurah = Actor(LURAH, OfficialRole.ADMIN, LOWOKWARU, kelurahan_code=SUMBERSARI)
    assert _audience_for(lurah, f"kelurahan:{SUMBERSARI}").kelurahan_code == SUMBERSARI
    assert _audience_for(lurah, f"kelurahan:{SUMBERSARI}/rt").kelurahan_code == SUMBERSARI
    for spec in ("all", f"kecamatan:{LOWOKWARU}", f"kelurahan:{DINOYO}", "rw"):
        with pytest.raises(PermissionDenied):
            _audience_for(lurah, spec)
    camat = Actor(CAMAT, OfficialRole.ADMIN, LOWOKWARU)
    assert _audience_for(camat, f"kelurahan:{SUMBERSARI}").kelurahan_code == SUMBERSARI
