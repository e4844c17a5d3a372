"""Authority through Telegram (issue 10): who may change whom, the second admin, one person with
two accounts, /petugas hapus and pages, /audit and its CSV, scoped /jadwal, forged presses."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import (
    Broadcast,
    BroadcastStatus,
    Official,
    OfficialRequest,
    OfficialRole,
    RequestStatus,
)
from domain.broadcasts import Draft, submit
from domain.officials import find_actor
from sandbox.world import Message, User
from tests.authority_fixtures import seed_official
from tests.e2e.harness import ADMIN_ID, Harness, running_kentongan

# Friday 22 November 2024, 09.00 WIB: before masa tenang.
BEFORE_MASA_TENANG = datetime(2024, 11, 22, 2, 0, tzinfo=UTC)
LOWOKWARU, KLOJEN = "35.73.05", "35.73.02"
CITY_ADMIN = 920001  # an established city-wide admin, not root
SCOPED_ADMIN = 920002  # admin of Lowokwaru
KLOJEN_OPERATOR = 920003
LOWOKWARU_OPERATOR = 920004


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_kentongan(tmp_path, now=BEFORE_MASA_TENANG) as harness:
        now = harness.clock.now()
        async with harness.services.sessions.begin() as session:
            await seed_official(session, CITY_ADMIN, OfficialRole.ADMIN, now)
            await seed_official(
                session, SCOPED_ADMIN, OfficialRole.ADMIN, now, kecamatan_code=LOWOKWARU
            )
            await seed_official(
                session, KLOJEN_OPERATOR, OfficialRole.OPERATOR, now, kecamatan_code=KLOJEN
            )
            await seed_official(
                session, LOWOKWARU_OPERATOR, OfficialRole.OPERATOR, now, kecamatan_code=LOWOKWARU
            )
        yield harness


def user(h: Harness, user_id: int, name: str = "Petugas") -> User:
    if user_id in h.world.users:
        return h.world.users[user_id]
    return h.world.add_user(name, user_id=user_id, started=True)


async def official_row(h: Harness, user_id: int) -> Official | None:
    async with h.services.sessions() as session:
        return await session.get(Official, user_id)


async def test_scoped_admin_cannot_touch_root_admins_or_officials_outside_scope(h: Harness) -> None:
    scoped = user(h, SCOPED_ADMIN)
    reply = await h.say(scoped, f"/petugas tambah {ADMIN_ID} operator {LOWOKWARU}")
    assert "admin utama" in (reply.text or "")
    reply = await h.say(scoped, f"/petugas hapus {ADMIN_ID}")
    assert "admin utama" in (reply.text or "")
    reply = await h.say(scoped, f"/petugas tambah {CITY_ADMIN} operator {LOWOKWARU}")
    assert "di luar wilayah" in (reply.text or "")
    reply = await h.say(scoped, f"/petugas hapus {KLOJEN_OPERATOR}")
    assert "di luar wilayah" in (reply.text or "")
    reply = await h.say(scoped, f"/petugas tambah 777 operator {KLOJEN}")
    assert "di luar wewenang" in (reply.text or "")
    reply = await h.say(scoped, f"/petugas tambah {SCOPED_ADMIN} operator {LOWOKWARU}")
    assert "sendiri" in (reply.text or "")
    root = await official_row(h, ADMIN_ID)
    city = await official_row(h, CITY_ADMIN)
    klojen = await official_row(h, KLOJEN_OPERATOR)
    assert root is not None and root.role is OfficialRole.ADMIN and root.kecamatan_code is None
    assert city is not None and city.role is OfficialRole.ADMIN and city.kecamatan_code is None
    assert klojen is not None and klojen.active and klojen.kecamatan_code == KLOJEN
    assert await official_row(h, 777) is None
    # Inside their scope, below them, it works at once.
    reply = await h.say(scoped, f"/petugas tambah 778 operator {LOWOKWARU}")
    assert "778 sekarang operator" in (reply.text or "")


async def test_adding_an_admin_needs_a_second_admin(h: Harness) -> None:
    city = user(h, CITY_ADMIN)
    reply = await h.say(city, f"/petugas tambah 5550001 admin {LOWOKWARU}")
    assert "perlu persetujuan admin kedua" in (reply.text or "")
    assert await official_row(h, 5550001) is None
    async with h.services.sessions() as session:
        request = await session.scalar(select(OfficialRequest))
    assert request is not None and request.status is RequestStatus.PENDING
    own = await h.say(city, f"/petugas setujui {request.id}")
    assert "Anda sendiri yang membuat" in (own.text or "")
    root = h.admin()
    listing = await h.say(root, "/petugas permintaan")
    assert f"#{request.id}" in (listing.text or "") and "5550001" in (listing.text or "")
    hint = await h.say(root, "/petugas")
    assert "permintaan menunggu" in (hint.text or "")
    done = await h.say(root, f"/petugas setujui {request.id}")
    assert f"#{request.id} disetujui" in (done.text or "")
    added = await official_row(h, 5550001)
    assert added is not None and added.role is OfficialRole.ADMIN
    assert added.approver_proposed_by == CITY_ADMIN
    again = await h.say(root, f"/petugas setujui {request.id}")
    assert "tidak ditemukan atau sudah diputuskan" in (again.text or "")
    bad = await h.say(root, "/petugas setujui 99999999999999999999999999")
    assert "tidak mungkin" in (bad.text or "")


async def test_one_person_with_two_accounts_cannot_get_custom_text_approved(h: Harness) -> None:
    """The city admin proposes their second account as admin; the root admin, trusting them,
    approves. The second account still may not approve the first's custom broadcast, is not
    even asked, and the button and /setujui both refuse."""
    city = user(h, CITY_ADMIN)
    second_account = user(h, 5550002, "Akun Kedua")
    await h.registered_groups(2)
    await h.say(city, f"/petugas tambah 5550002 admin {LOWOKWARU}")
    async with h.services.sessions() as session:
        request_id = await session.scalar(select(OfficialRequest.id))
    await h.say(h.admin(), f"/petugas setujui {request_id}")
    h.clock.advance(timedelta(days=3))  # old enough: time alone does not make them two people

    menu = await h.say(city, "/siaran")
    await h.press(city, menu, "✍️ Tulis teks sendiri")
    step = await h.say(city, "Kerja bakti bersihkan lingkungan, Minggu pagi.")
    step1 = await h.press(city, step, "Kec. Lowokwaru")
    assert step1 is not None
    step2 = await h.press(city, step1, "Seluruh Kec. Lowokwaru")
    assert step2 is not None
    last = h.world.last_bot_message(city)
    assert last is not None
    h.world.press_button(
        city, city, step2.message_id, step2.button("Kirim sekarang")["callback_data"]
    )
    summary = await h.server.wait_for_message(
        city, lambda m: "Pratinjau" in (m.text or ""), after=last.message_id
    )
    await h.press(city, summary, "📨 Ajukan persetujuan")
    async with h.services.sessions() as session:
        broadcast_id = await session.scalar(select(Broadcast.id).order_by(Broadcast.id.desc()))
    assert broadcast_id is not None
    # The root admin is asked (with the approval screen); the second account is not.
    root_messages = await h.server.wait_until(
        lambda: [m for m in h.world.bot_messages(h.admin()) if m.buttons()] or None
    )
    assert not [m for m in h.world.bot_messages(second_account) if m.buttons()]
    screen = h.world.bot_messages(h.admin())[-2]
    assert "sindiran" in (screen.text or "") and "Periksa sebelum menyetujui" in (screen.text or "")
    assert "Kerja bakti" in (root_messages[-1].text or "")

    reply = await h.say(second_account, f"/setujui {broadcast_id}")
    assert "oleh pembuat siaran" in (reply.text or "")
    query = h.forge_press(second_account, reply, f"p:ok:{broadcast_id}")
    answer = await h.server.wait_for_callback_answer(query)
    assert "pembuat siaran" in (answer.text or "")
    async with h.services.sessions() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
    assert broadcast is not None and broadcast.status is BroadcastStatus.AWAITING_APPROVAL


async def test_petugas_hapus_and_pages(h: Harness) -> None:
    root = h.admin()
    now = h.clock.now()
    async with h.services.sessions.begin() as session:
        for i in range(130):
            kecamatan = LOWOKWARU if i % 2 else KLOJEN
            await seed_official(
                session, 7_000_000 + i, OfficialRole.OPERATOR, now, kecamatan_code=kecamatan
            )
    first = await h.say(root, "/petugas")
    assert "Halaman 1 dari 7 · 135 petugas" in (first.text or "")
    assert "/petugas 2" in (first.text or "") and len(first.text or "") < 4096
    assert "admin utama" in (first.text or "").split("\n")[1]
    last = await h.say(root, "/petugas 7")
    assert "Halaman 7 dari 7" in (last.text or "") and "/petugas 8" not in (last.text or "")
    clamped = await h.say(root, "/petugas 999")
    assert "Halaman 7 dari 7" in (clamped.text or "")
    odd = await h.say(root, "/petugas ²")
    assert "Format" in (odd.text or "")
    scoped = await h.say(user(h, SCOPED_ADMIN), "/petugas")
    body = scoped.text or ""
    assert "67 petugas" in body  # 65 seeded in Lowokwaru, its operator, the admin themselves
    assert "7000000" not in body and str(KLOJEN_OPERATOR) not in body

    gone = await h.say(root, "/petugas hapus 7000000")
    assert "7000000 bukan petugas lagi" in (gone.text or "")
    removed = await official_row(h, 7000000)
    assert removed is not None and not removed.active
    refused = await h.say(user(h, 7000000), "/jadwal")
    assert "hanya untuk petugas" in (refused.text or "")
    again = await h.say(root, "/petugas hapus 7000000")
    assert "bukan petugas aktif" in (again.text or "")
    # Removing an admin is a request for a second admin, like adding one.
    request = await h.say(root, f"/petugas hapus {SCOPED_ADMIN}")
    assert "perlu persetujuan admin kedua" in (request.text or "")
    still = await official_row(h, SCOPED_ADMIN)
    assert still is not None and still.active


async def test_audit_is_scoped_and_exports_csv(h: Harness) -> None:
    root = h.admin()
    await h.say(root, f"/petugas tambah 8880001 operator {KLOJEN}")
    await h.say(root, f"/petugas tambah 8880002 operator {LOWOKWARU}")
    listing = await h.say(root, "/audit")
    body = listing.text or ""
    assert "Catatan audit" in body and "user:8880001" in body and "user:8880002" in body
    by_official = await h.say(root, "/audit petugas 8880001")
    assert "user:8880001" in (by_official.text or "")
    assert "user:8880002" not in (by_official.text or "")
    scoped = await h.say(user(h, SCOPED_ADMIN), "/audit")
    assert "user:8880002" in (scoped.text or "") and "user:8880001" not in (scoped.text or "")
    operator = await h.say(user(h, LOWOKWARU_OPERATOR), "/audit")
    assert "hanya dapat dilihat admin" in (operator.text or "")
    bad = await h.say(root, "/audit petugas 123456789012345678901234567890")
    assert "tidak mungkin" in (bad.text or "")
    usage = await h.say(root, "/audit sembarang")
    assert "Format" in (usage.text or "")

    document = await h.say(root, "/audit csv", match=lambda m: m.document is not None)
    assert document.document is not None
    data = h.world.files[document.document["file_id"]].data.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(data)))
    assert rows[0].keys() >= {"id", "waktu", "petugas", "tindakan", "sasaran"}
    assert {"user:8880001", "user:8880002"} <= {r["sasaran"] for r in rows}
    assert all(r["waktu"].endswith("+07:00") for r in rows)


async def _broadcast_to(h: Harness, audience: str) -> int:
    now = h.clock.now()
    async with h.services.sessions.begin() as session:
        actor = await find_actor(session, ADMIN_ID)
        assert actor is not None
        draft = Draft(
            audience=audience,
            scheduled_at=now + timedelta(hours=2),
            message_key="hoaks.saring",
        )
        broadcast = await submit(session, actor, draft, h.services.profile, now)
        return broadcast.id


async def test_scoped_operator_jadwal_lists_only_their_kecamatan(h: Harness) -> None:
    await h.registered_groups(1)
    ours = await _broadcast_to(h, f"kecamatan:{LOWOKWARU}")
    theirs = await _broadcast_to(h, f"kecamatan:{KLOJEN}")
    scoped = await h.say(user(h, LOWOKWARU_OPERATOR), "/jadwal")
    assert f"#{ours}" in (scoped.text or "") and f"#{theirs}" not in (scoped.text or "")
    city = await h.say(h.admin(), "/jadwal")
    assert f"#{ours}" in (city.text or "") and f"#{theirs}" in (city.text or "")


async def test_presses_in_groups_and_forged_ids_are_answered_not_posted(h: Harness) -> None:
    root = h.admin()
    [group] = await h.registered_groups(1)
    leader = next(m.user for m in group.members.values() if m.status == "creator")
    posted = len(h.world.bot_messages(group))
    anchor = h.world.user_sends(leader, group, "halo")
    for data in ("p:ok:1", "l:r:1", "l:d", "p:no:99999999999999999"):
        for who in (leader, root) if root.id in group.members else (leader,):
            query = h.forge_press(who, anchor, data)
            answer = await h.server.wait_for_callback_answer(query)
            assert answer.text, data
    assert len(h.world.bot_messages(group)) == posted
    reply = await h.say(root, "/setujui 1")
    assert reply.text
    for data in ("p:ok:" + "9" * 18, "l:r:" + "9" * 30, "l:b:²", "p:ok:0"):
        query = h.forge_press(root, reply, data)
        answer = await h.server.wait_for_callback_answer(query)
        assert "tidak berlaku" in (answer.text or "") or "tidak ditemukan" in (answer.text or "")


async def test_typed_ids_out_of_range_are_answered(h: Harness) -> None:
    root = h.admin()
    for command in ("/setujui", "/batal", "/laporan", "/belum"):
        for arg in ("9" * 30, "²", "#12abc"):
            reply: Message = await h.say(root, f"{command} {arg}")
            body = reply.text or ""
            assert "tidak mungkin" in body or "bukan nomor siaran" in body, (command, arg)
    reply = await h.say(root, f"/petugas tambah {'9' * 25} operator")
    assert "tidak mungkin" in (reply.text or "")
