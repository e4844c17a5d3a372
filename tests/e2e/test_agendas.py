"""Agendas and topics through the local Bot API server: /topik choices reach the engine,
emergency topics are forced, /agenda is scoped to the official and admins pause and preview."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Agenda as AgendaRow
from db.models import Broadcast, BroadcastSource, BroadcastStatus, OfficialRole
from sandbox.world import Chat, User
from tests.authority_fixtures import seed_official
from tests.e2e.harness import Harness, running_kentongan

# Tuesday 1 December 2026, 10.00 WIB: long after the election; the example agendas run.
AFTER = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
# Friday 4 December 2026, 07.00 WIB: the DBD agenda's weekly PSN reminder is due.
FRIDAY = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
KLOJEN_OPERATOR = 910005
SECOND_ADMIN = 910006
LURAH_OPERATOR = 910007


@pytest.fixture
async def later(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_kentongan(tmp_path, now=AFTER) as harness:
        yield harness


def _admin_of(chat: Chat) -> User:
    return next(m.user for m in chat.members.values() if m.is_admin)


async def test_topik_opt_out_is_respected_and_emergency_topics_are_forced(later: Harness) -> None:
    h = later
    opted, other = await h.registered_groups(2, members=1)
    leader = _admin_of(opted)
    menu = await h.say(leader, "/topik", opted)
    assert "Topik siaran" in (menu.text or "")
    assert "🔒 Bencana & darurat (selalu)" in [b["text"] for b in menu.buttons()]

    # A member who is not an admin changes nothing.
    member = next(m.user for m in opted.members.values() if not m.is_admin and not m.user.is_bot)
    query = h.world.press_button(
        member, opted, menu.message_id, menu.button("✅ Kesehatan")["callback_data"]
    )
    refused = await h.server.wait_for_callback_answer(query)
    assert "Hanya admin grup" in (refused.text or "")

    edited = await h.press(leader, menu, "✅ Kesehatan", chat=opted)
    assert edited is not None and "⬜ Kesehatan" in [b["text"] for b in edited.buttons()]
    query = h.world.press_button(
        leader,
        opted,
        menu.message_id,
        menu.button("🔒 Bencana & darurat (selalu)")["callback_data"],
    )
    locked = await h.server.wait_for_callback_answer(query)
    assert "tidak dapat dimatikan" in (locked.text or "")

    # An emergency broadcast goes to both groups; the health agenda's step only to the other.
    async with h.services.sessions.begin() as session:
        session.add(
            Broadcast(
                source=BroadcastSource.TIMELINE,
                timeline_key="banjir-2026:siaga",
                message_key="hoaks.saring",
                audience="all",
                scheduled_at=FRIDAY,
                status=BroadcastStatus.SCHEDULED,
                created_at=AFTER,
                agenda="banjir-2026",
                topic="bencana",
            )
        )
    h.clock.set(FRIDAY)
    summaries = await h.run_due()
    async with h.services.sessions() as session:
        psn = await session.scalar(
            select(Broadcast).where(Broadcast.timeline_key == "dbd-3m-plus:jumat-psn:2026-12-04")
        )
    assert psn is not None
    by_id = {s.broadcast_id: s for s in summaries}
    assert by_id[psn.id].sent == 1
    emergency = [s for s in summaries if s.broadcast_id != psn.id and s.sent]
    assert [s.sent for s in emergency] == [2]
    assert not any("Jumat PSN" in (m.text or "") for m in h.world.bot_messages(opted))
    assert any("Jumat PSN" in (m.text or "") for m in h.world.bot_messages(other))


async def test_agenda_is_scoped_to_the_official_and_admins_pause_and_preview(
    later: Harness,
) -> None:
    h = later
    await h.registered_groups(2, kelurahan="35.73.05.1005")  # Lowokwaru
    await h.registered_groups(1, kelurahan="35.73.02.1008")  # Klojen
    async with h.services.sessions.begin() as session:
        await seed_official(
            session, KLOJEN_OPERATOR, OfficialRole.OPERATOR, AFTER, kecamatan_code="35.73.02"
        )
    operator = h.world.add_user("Pak Operator Klojen", user_id=KLOJEN_OPERATOR, started=True)
    seen = await h.say(operator, "/agenda")
    text = seen.text or ""
    assert "Klojen" in text and "dbd.psn_jumat" in text and "kerja_bakti.bulanan" in text
    assert "(1 grup)" in text and "(3 grup)" not in text
    assert seen.buttons() == []  # an operator sees, does not run

    admin = h.admin()
    listing = await h.say(admin, "/agenda")
    assert "(3 grup)" in (listing.text or "")
    preview = await h.press(admin, listing, "👁️ Pratinjau dbd-3m-plus")
    assert preview is not None and "Pratinjau" in (preview.text or "")
    assert "Jumat PSN" in (preview.text or "")

    paused = await h.press(admin, listing, "⏸️ Jeda dbd-3m-plus")
    assert paused is not None and "▶️ Lanjutkan dbd-3m-plus" in [b["text"] for b in paused.buttons()]
    async with h.services.sessions() as session:
        row = await session.get(AgendaRow, "dbd-3m-plus")
        waiting = (
            await session.scalars(
                select(Broadcast).where(
                    Broadcast.agenda == "dbd-3m-plus",
                    Broadcast.status == BroadcastStatus.SCHEDULED,
                )
            )
        ).all()
    assert row is not None and row.paused and waiting == []

    warga = h.world.add_user("Warga", started=True)
    refused = await h.say(warga, "/agenda")
    assert "hanya untuk petugas" in (refused.text or "")


async def test_an_agenda_file_sent_to_the_bot_is_validated_whole(later: Harness) -> None:
    h = later
    admin = h.admin()
    good = b"""
name = "siskamling"
title = "Ronda malam"
topic = "keamanan"

[[step]]
key = "sabtu"
every = "sabtu 19.00"
message = "kerja_bakti.bulanan"
"""
    bad = good.replace(b'every = "sabtu 19.00"', b'every = "malam minggu"')
    last = h.world.last_bot_message(admin)
    h.world.user_sends_document(admin, None, "siskamling.toml", bad)
    refused = await h.server.wait_for_message(admin, after=last.message_id if last else 0)
    assert "tidak dimuat" in (refused.text or "") and "baris 8" in (refused.text or "")
    async with h.services.sessions() as session:
        assert await session.get(AgendaRow, "siskamling") is None

    h.world.user_sends_document(admin, None, "siskamling.toml", good)
    loaded = await h.server.wait_for_message(admin, after=refused.message_id)
    assert "siskamling" in (loaded.text or "") and "dimuat" in (loaded.text or "")
    async with h.services.sessions() as session:
        rows = (
            await session.scalars(select(Broadcast).where(Broadcast.agenda == "siskamling"))
        ).all()
    assert rows and {b.topic for b in rows} == {"keamanan"}

    # A kecamatan operator may look but not load.
    async with h.services.sessions.begin() as session:
        await seed_official(
            session, KLOJEN_OPERATOR, OfficialRole.OPERATOR, AFTER, kecamatan_code="35.73.02"
        )
    operator = h.world.add_user("Pak Operator Klojen", user_id=KLOJEN_OPERATOR, started=True)
    h.world.user_sends_document(operator, None, "siskamling.toml", good)
    no = await h.server.wait_for_message(operator)
    assert "Hanya admin tingkat kota" in (no.text or "")


async def test_custom_texts_in_an_agenda_wait_for_a_second_admin(later: Harness) -> None:
    h = later
    await h.registered_groups(1)
    admin = h.admin()
    own_text = b"""
name = "ronda-teks"
title = "Ronda malam"
topic = "keamanan"

[[step]]
key = "sabtu"
every = "sabtu 19.00"
text = "Malam ini jadwal ronda. Jaga lingkungan bersama, kunci pintu dan pagar."
"""
    h.world.user_sends_document(admin, None, "ronda.toml", own_text)
    held = await h.server.wait_for_message(
        admin, lambda m: "menunggu" in (m.text or "") or "admin kota yang lain" in (m.text or "")
    )
    assert "admin kota yang lain" in (held.text or "")

    async def waiting() -> list[Broadcast]:
        async with h.services.sessions() as session:
            return list(
                (
                    await session.scalars(
                        select(Broadcast).where(
                            Broadcast.agenda == "ronda-teks",
                            Broadcast.status == BroadcastStatus.SCHEDULED,
                        )
                    )
                ).all()
            )

    assert await waiting() == []
    mine = await h.say(admin, "/agenda")
    assert "menunggu persetujuan" in (mine.text or "")
    assert "✅ Setujui ronda-teks" not in [b["text"] for b in mine.buttons()]

    async with h.services.sessions.begin() as session:
        await seed_official(session, SECOND_ADMIN, OfficialRole.ADMIN, AFTER)
    second = h.world.add_user("Bu Admin Kedua", user_id=SECOND_ADMIN, started=True)
    listing = await h.say(second, "/agenda")
    approved = await h.press(second, listing, "✅ Setujui ronda-teks")
    assert approved is not None and "⏸️ Jeda ronda-teks" in [b["text"] for b in approved.buttons()]
    assert {b.text for b in await waiting()} == {
        "Malam ini jadwal ronda. Jaga lingkungan bersama, kunci pintu dan pagar."
    }


async def test_agenda_names_a_lurahs_kelurahan_and_counts_only_its_groups(later: Harness) -> None:
    h = later
    await h.registered_groups(2, kelurahan="35.73.05.1005")  # Sumbersari, Lowokwaru
    await h.registered_groups(1, kelurahan="35.73.05.1004")  # Dinoyo, Lowokwaru
    async with h.services.sessions.begin() as session:
        lurah = await seed_official(
            session, LURAH_OPERATOR, OfficialRole.OPERATOR, AFTER, kecamatan_code="35.73.05"
        )
        lurah.kelurahan_code = "35.73.05.1005"
    user = h.world.add_user("Bu Lurah Sumbersari", user_id=LURAH_OPERATOR, started=True)
    seen = await h.say(user, "/agenda")
    head, *_ = (seen.text or "").split("\n")
    assert "Kelurahan Sumbersari" in head and "Kecamatan" not in head
    assert "dbd.psn_jumat" in (seen.text or "")
    assert "(2 grup)" in (seen.text or "") and "(3 grup)" not in (seen.text or "")
