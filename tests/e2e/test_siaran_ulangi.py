"""/siaran "ulangi" (issue 16) through the local Bot API server: an earlier broadcast again, to
the same or a narrower audience, through the same preview and approval path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Agenda as AgendaRow
from db.models import AuditEntry, Broadcast, BroadcastSource, BroadcastStatus, OfficialRole
from scheduler.audience import Audience
from tests.authority_fixtures import seed_official
from tests.e2e.harness import ADMIN_ID, Harness, running_kentongan

# Friday 22 November 2024, 09.00 WIB: before masa tenang.
BEFORE_MASA_TENANG = datetime(2024, 11, 22, 2, 0, tzinfo=UTC)
SUMBERSARI, TLOGOMAS = "35.73.05.1005", "35.73.05.1003"
LOWOKWARU = "35.73.05"
SECOND_ADMIN, LOWOKWARU_OPERATOR = 930002, 930003


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_kentongan(tmp_path, now=BEFORE_MASA_TENANG) as harness:
        now = harness.clock.now()
        async with harness.services.sessions.begin() as session:
            await seed_official(session, SECOND_ADMIN, OfficialRole.ADMIN, now)
            await seed_official(
                session,
                LOWOKWARU_OPERATOR,
                OfficialRole.OPERATOR,
                now,
                kecamatan_code=LOWOKWARU,
            )
        yield harness


async def _earlier(h: Harness, audience: str, **values: object) -> int:
    """A broadcast that went out yesterday."""
    at = h.clock.now() - timedelta(days=1)
    async with h.services.sessions.begin() as session:
        broadcast = Broadcast(
            source=values.pop("source", BroadcastSource.LIBRARY),
            audience=audience,
            scheduled_at=at,
            expires_at=at + timedelta(hours=24),
            priority=5,
            status=values.pop("status", BroadcastStatus.DONE),
            created_by=ADMIN_ID,
            approved_by=ADMIN_ID,
            created_at=at,
            **values,
        )
        session.add(broadcast)
        await session.flush()
        return broadcast.id


async def _send_now(h: Harness, admin: object, screen: object) -> object:
    """Press "Kirim sekarang" on the time screen; the preview summary that follows."""
    last = h.world.last_bot_message(admin)  # type: ignore[arg-type]
    assert last is not None
    button = screen.button("Kirim sekarang")  # type: ignore[attr-defined]
    h.world.press_button(admin, admin, screen.message_id, button["callback_data"])  # type: ignore[attr-defined, arg-type]
    return await h.server.wait_for_message(
        admin,  # type: ignore[arg-type]
        lambda m: "Pratinjau" in (m.text or ""),
        after=last.message_id,
    )


async def test_repeat_a_library_broadcast_to_a_narrower_audience(h: Harness) -> None:
    sumbersari = await h.registered_groups(2, kelurahan=SUMBERSARI)
    tlogomas = await h.registered_groups(1, kelurahan=TLOGOMAS)
    original = await _earlier(h, "all", message_key="hoaks.saring")
    admin = h.admin()

    menu = await h.say(admin, "/siaran")
    listing = await h.press(admin, menu, "🔁 Ulangi siaran sebelumnya")
    assert listing is not None and "Siaran mana yang diulang" in (listing.text or "")
    row = next(b for b in listing.buttons() if b["text"].startswith(f"#{original} "))
    audience = await h.press(admin, listing, row["text"])
    assert audience is not None and f"Ulangi siaran #{original}" in (audience.text or "")
    labels = [b["text"] for b in audience.buttons()]
    assert "↩️ Sasaran yang sama" in labels and "Semua grup se-kota" not in labels  # the same
    assert "Grup RW se-kota" in labels
    kecamatan = await h.press(admin, audience, "Kec. Lowokwaru")
    assert kecamatan is not None
    when = await h.press(admin, kecamatan, "Sumbersari")
    assert when is not None and "Kapan" in (when.text or "")
    summary = await _send_now(h, admin, when)
    assert f"Ulangan siaran #{original}" in (summary.text or "")  # type: ignore[attr-defined]
    assert "2 grup" in (summary.text or "")  # type: ignore[attr-defined]
    preview = h.world.bot_messages(admin)[-2]
    assert "saring" in (preview.text or "").lower()

    await h.press(admin, summary, "✅ Kirim")  # type: ignore[arg-type]
    for group in sumbersari:
        got = await h.server.wait_for_message(group, lambda m: bool(m.buttons()))
        assert got.text == preview.text
    await h.server.wait_for_message(admin, lambda m: "terkirim 2" in (m.text or ""))
    assert not [m for m in h.world.bot_messages(tlogomas[0]) if m.buttons()]
    async with h.services.sessions() as session:
        repeat = await session.scalar(select(Broadcast).order_by(Broadcast.id.desc()))
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "broadcast.repeat")
        )
    assert repeat is not None and repeat.audience == f"kelurahan:{SUMBERSARI}"
    assert repeat.message_key == "hoaks.saring"
    assert entry is not None and entry.target == f"broadcast:{repeat.id}"
    assert str(original) in (entry.detail or "")


async def test_repeat_of_own_text_keeps_the_two_person_rule_and_the_audience(h: Harness) -> None:
    await h.registered_groups(2, kelurahan=SUMBERSARI)
    original = await _earlier(
        h,
        f"kecamatan:{LOWOKWARU}",
        source=BroadcastSource.CUSTOM,
        text="Kerja bakti bersihkan selokan hari Minggu pukul 07.00.",
        topic="lingkungan",
    )
    admin = h.admin()
    second = h.world.add_user("Admin Dua", user_id=SECOND_ADMIN, started=True)

    audience = await h.say(admin, f"/siaran ulangi {original}")
    labels = [b["text"] for b in audience.buttons()]
    # Only the original audience or narrower: no city-wide buttons, no other kecamatan.
    assert "Semua grup se-kota" not in labels and "Grup RW se-kota" not in labels
    assert "Kec. Klojen" not in labels and "Kec. Lowokwaru" in labels
    # A forged press for a wider audience changes nothing.
    token = audience.button("↩️ Sasaran yang sama")["callback_data"].split(":")[1]
    query = h.forge_press(admin, audience, f"s:{token}:a:all")
    answer = await h.server.wait_for_callback_answer(query)
    assert "tidak berlaku" in (answer.text or "")

    when = await h.press(admin, audience, "↩️ Sasaran yang sama")
    assert when is not None and "Kapan" in (when.text or "")
    summary = await _send_now(h, admin, when)
    assert "Perlu persetujuan petugas kedua" in (summary.text or "")  # type: ignore[attr-defined]
    last_second = h.world.last_bot_message(second)
    confirm = await h.press(admin, summary, "📨 Ajukan persetujuan")  # type: ignore[arg-type]
    assert confirm is not None and "menunggu persetujuan" in (confirm.text or "")
    request = await h.server.wait_for_message(
        second,
        lambda m: bool(m.buttons()),
        after=last_second.message_id if last_second else 0,
    )
    assert "Kerja bakti" in (request.text or "")
    async with h.services.sessions() as session:
        repeat = await session.scalar(select(Broadcast).order_by(Broadcast.id.desc()))
    assert repeat is not None and repeat.id != original
    assert repeat.status is BroadcastStatus.AWAITING_APPROVAL
    assert repeat.audience == f"kecamatan:{LOWOKWARU}" and repeat.topic == "lingkungan"


async def test_repeat_refusals_are_answered_in_indonesian(h: Harness) -> None:
    admin = h.admin()
    cancelled = await _earlier(
        h, "all", message_key="hoaks.saring", status=BroadcastStatus.CANCELLED
    )
    citywide = await _earlier(h, "all", message_key="hoaks.saring")
    reply = await h.say(admin, "/siaran ulangi 99999")
    assert "tidak ditemukan" in (reply.text or "")
    reply = await h.say(admin, f"/siaran ulangi {cancelled}")
    assert "tidak dapat diulang" in (reply.text or "")
    reply = await h.say(admin, "/siaran ulangi dua")
    assert "/siaran ulangi 12" in (reply.text or "")
    # An operator limited to Lowokwaru sees no city-wide broadcast to repeat.
    operator = h.world.add_user("Operator", user_id=LOWOKWARU_OPERATOR, started=True)
    reply = await h.say(operator, f"/siaran ulangi {citywide}")
    assert "tidak ditemukan di cakupan Anda" in (reply.text or "")
    menu = await h.say(operator, "/siaran")
    empty = await h.press(operator, menu, "🔁 Ulangi siaran sebelumnya")
    assert empty is not None and "Belum ada siaran yang dapat diulang" in (empty.text or "")


def test_narrower_audiences() -> None:
    def narrows(spec: str, wider: str) -> bool:
        return Audience.parse(spec).narrows(Audience.parse(wider))

    assert narrows("all", "all") and narrows(f"kelurahan:{SUMBERSARI}", "all")
    assert narrows(f"kelurahan:{SUMBERSARI}", f"kecamatan:{LOWOKWARU}")
    assert not narrows(f"kecamatan:{LOWOKWARU}", f"kelurahan:{SUMBERSARI}")
    assert not narrows("all", "rw") and narrows(f"kecamatan:{LOWOKWARU}/rw", "rw")
    assert not narrows(f"kecamatan:{LOWOKWARU}", "rw")
    assert not narrows("kecamatan:35.73.02", f"kecamatan:{LOWOKWARU}")
    assert narrows("unacked:5", "unacked:5") and not narrows("all", "unacked:5")


async def test_repeat_every_week_until_a_date_becomes_an_agenda(h: Harness) -> None:
    await h.registered_groups(1, kelurahan=SUMBERSARI)
    original = await _earlier(h, "all", message_key="hoaks.saring")
    admin = h.admin()
    audience = await h.say(admin, f"/siaran ulangi {original}")
    when = await h.press(admin, audience, "↩️ Sasaran yang sama")
    assert when is not None
    summary = await _send_now(h, admin, when)
    ask = await h.press(admin, summary, "🔁 Tiap minggu sampai…")  # type: ignore[arg-type]
    assert ask is not None and "Sampai tanggal berapa" in (ask.text or "")
    for typed, said in (
        ("kemarin", "tidak dikenali"),
        ("01/11/2024", "sebelum siaran pertama"),
        ("01/01/2030", "paling lama setahun"),
    ):
        reply = await h.say(admin, typed)
        assert said in (reply.text or ""), typed
    plan = await h.say(admin, "31/12/2024")
    body = plan.text or ""
    # Friday 22 November 09.00 WIB, then every Friday: 22, 29 Nov, 6, 13, 20, 27 Dec.
    assert "tiap jumat 09.00, dari 22/11/2024 sampai 31/12/2024 — 6 kali" in body, body
    done = await h.press(admin, plan, "✅ Muat agenda berkala")
    assert done is not None and "dimuat dan berjalan" in (done.text or "")

    name = f"ulang-{original}-mingguan-20241122"
    async with h.services.sessions() as session:
        row = await session.get(AgendaRow, name)
        rows = (
            await session.scalars(
                select(Broadcast).where(Broadcast.agenda == name).order_by(Broadcast.scheduled_at)
            )
        ).all()
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "broadcast.repeat_series")
        )
    assert row is not None and not row.paused and not row.awaiting_approval
    local = [b.scheduled_at.astimezone(h.services.profile.tz) for b in rows]
    assert len(local) >= 5 and all(t.weekday() == 4 and t.hour == 9 for t in local)
    assert {b.message_key for b in rows} == {"hoaks.saring"} and {b.audience for b in rows} == {
        "all"
    }
    assert entry is not None and entry.target == f"agenda:{name}"


async def test_a_weekly_repeat_of_own_text_waits_for_a_second_admin(h: Harness) -> None:
    original = await _earlier(
        h,
        "all",
        source=BroadcastSource.CUSTOM,
        text="Kerja bakti bersihkan selokan hari Minggu pukul 07.00.",
    )
    admin = h.admin()
    audience = await h.say(admin, f"/siaran ulangi {original}")
    when = await h.press(admin, audience, "↩️ Sasaran yang sama")
    assert when is not None
    summary = await _send_now(h, admin, when)
    await h.press(admin, summary, "🔁 Tiap bulan sampai…")  # type: ignore[arg-type]
    plan = await h.say(admin, "2025-03-31")
    assert "tiap tanggal 22 09.00" in (plan.text or "") and "5 kali" in (plan.text or "")
    done = await h.press(admin, plan, "✅ Muat agenda berkala")
    assert done is not None and "dijeda sampai admin kota lain menyetujuinya" in (done.text or "")
    async with h.services.sessions() as session:
        row = await session.get(AgendaRow, f"ulang-{original}-bulanan-20241122")
    assert row is not None and row.awaiting_approval and row.paused


async def test_a_scoped_official_gets_no_series_buttons(h: Harness) -> None:
    await h.registered_groups(1, kelurahan=SUMBERSARI)
    original = await _earlier(h, f"kecamatan:{LOWOKWARU}", message_key="hoaks.saring")
    operator = h.world.add_user("Operator", user_id=LOWOKWARU_OPERATOR, started=True)
    audience = await h.say(operator, f"/siaran ulangi {original}")
    when = await h.press(operator, audience, "↩️ Sasaran yang sama")
    assert when is not None
    summary = await _send_now(h, operator, when)
    labels = [b["text"] for b in summary.buttons()]  # type: ignore[attr-defined]
    assert "🔁 Tiap minggu sampai…" not in labels
    token = summary.buttons()[0]["callback_data"].split(":")[1]  # type: ignore[attr-defined]
    # A forged series press from an official who may not load agendas loads nothing.
    query = h.forge_press(operator, summary, f"s:{token}:w:minggu")  # type: ignore[arg-type]
    assert (await h.server.wait_for_callback_answer(query)) is not None
    async with h.services.sessions() as session:
        names = (await session.scalars(select(AgendaRow.name))).all()
    assert not [n for n in names if n.startswith("ulang-")]


async def test_a_weekly_repeat_keeps_the_acknowledgement_asked_for(h: Harness) -> None:
    await h.registered_groups(1, kelurahan=SUMBERSARI)
    original = await _earlier(h, "all", message_key="hoaks.saring")
    admin = h.admin()
    audience = await h.say(admin, f"/siaran ulangi {original}")
    when = await h.press(admin, audience, "↩️ Sasaran yang sama")
    assert when is not None
    summary = await _send_now(h, admin, when)
    asked = await h.press(admin, summary, "🔔 Wajibkan konfirmasi + eskalasi")  # type: ignore[arg-type]
    assert asked is not None and "Wajib konfirmasi" in (asked.text or "")
    await h.press(admin, asked, "🔁 Tiap minggu sampai…")
    plan = await h.say(admin, "31/12/2024")
    assert "Wajib konfirmasi" in (plan.text or "")
    done = await h.press(admin, plan, "✅ Muat agenda berkala")
    assert done is not None and "dimuat dan berjalan" in (done.text or "")
    name = f"ulang-{original}-mingguan-20241122"
    async with h.services.sessions() as session:
        row = await session.get(AgendaRow, name)
        flags = (
            await session.scalars(select(Broadcast.ack_chain).where(Broadcast.agenda == name))
        ).all()
    assert row is not None and "ack = true" in row.source
    assert flags and all(flags)
