"""The scheduled pre-flight end to end: its job is rebuilt at start on the test clock, the
result goes once to the root admin and the officials of each area, and the button messages the
affected groups' registered admins (those who started the bot) with what to fix."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path

from db.models import Official, OfficialRole
from messages.telegram_html import visible_text
from sandbox.faults import Fault
from sandbox.world import Message
from tests.e2e.harness import Harness, running_kentongan

BEFORE = datetime(2024, 11, 24, 2, 0, tzinfo=UTC)  # H-3 09.00 WIB
DUE = datetime(2024, 11, 24, 3, 0, tzinfo=UTC)  # H-3 10.00 WIB
LOWOKWARU, KLOJEN = "35.73.05", "35.73.02"
CAMAT_LOWOKWARU, CAMAT_KLOJEN = 920001, 920002
TITLE = "Pemeriksaan grup terjadwal (H-3 10.00)"


def reports(k: Harness, user_id: int) -> list[Message]:
    user = k.world.users[user_id]
    return [m for m in k.world.bot_messages(user) if TITLE in (m.text or "")]


async def add_camat(k: Harness, user_id: int, kecamatan: str) -> None:
    k.world.add_user(f"Camat {user_id}", user_id=user_id, started=True)
    async with k.services.sessions.begin() as session:
        session.add(
            Official(
                user_id=user_id,
                role=OfficialRole.ADMIN,
                kecamatan_code=kecamatan,
                added_at=BEFORE,
                approver_since=BEFORE,
            )
        )


async def test_scheduled_preflight_reports_once_per_scope_and_hints_reach_admins(
    tmp_path: Path,
) -> None:
    async with running_kentongan(tmp_path, now=BEFORE) as k:
        admin = k.admin()
        await add_camat(k, CAMAT_LOWOKWARU, LOWOKWARU)
        await add_camat(k, CAMAT_KLOJEN, KLOJEN)
        _fine, kicked, restricted = await k.registered_groups(3)  # Sumbersari, Lowokwaru
        leaders = dict(k.db_rows("SELECT chat_id, subscribed_by FROM groups WHERE subscribed = 1"))
        kicked_leader = k.world.users[leaders[kicked.id]]
        kicked_leader.started = True  # the restricted group's leader never started the bot
        k.world.kick_bot(kicked)
        k.world.restrict_bot(restricted)
        assert k.app.job_queue is not None
        assert not k.app.job_queue.get_jobs_by_name("preflight:H-3 10.00")  # not due yet

        # 10.00 WIB: a restart rebuilds the slot's job from the profile and the database.
        k.clock.set(DUE)
        await k.restart()
        report = await k.server.wait_until(lambda: (reports(k, admin.id) or [None])[0], 30)
        text = visible_text(report.text)
        assert "Siaran berikutnya menjangkau 1 dari 3 grup; 1 bot dikeluarkan, " in text
        assert "1 tidak boleh mengirim pesan" in text
        assert "se-Kota Malang" in text and "Sumbersari (Lowokwaru)" in text
        camat = await k.server.wait_until(lambda: (reports(k, CAMAT_LOWOKWARU) or [None])[0])
        assert "Kecamatan Lowokwaru" in camat.text and "1 dari 3 grup" in camat.text
        other = await k.server.wait_until(lambda: (reports(k, CAMAT_KLOJEN) or [None])[0])
        assert "Kecamatan Klojen" in other.text and "0 dari 0 grup" in other.text
        assert other.reply_markup is None  # nothing to fix in Klojen: no button
        row = "SELECT slot, groups, retry_after, reported_to FROM preflight_runs"
        done = await k.server.wait_until(lambda: [r for r in k.db_rows(row) if r[3] is not None])
        assert done == [("H-3 10.00", 3, 0, 3)]

        answer = await k.press(admin, report, "📨 Kirim petunjuk ke admin grup")
        assert answer is not None
        assert "Petunjuk terkirim ke 1 dari 2 admin grup" in visible_text(answer.text)
        assert "1 admin belum pernah membuka bot" in visible_text(answer.text)
        hint = k.world.last_bot_message(kicked_leader)
        assert hint is not None and "Tambahkan bot kembali ke grup" in hint.text
        assert "RW 02 · RW 02" in visible_text(hint.text)

        # A second press (or the camat's) tells nobody twice.
        again = await k.press(admin, report, "📨 Kirim petunjuk ke admin grup")
        assert again is not None
        assert "2 grup sudah diberi petunjuk sebelumnya" in visible_text(again.text)
        assert len(k.world.bot_messages(kicked_leader)) == 1

        # Reported once: another restart at the same time runs nothing again.
        await k.restart()
        assert not k.app.job_queue.get_jobs_by_name("preflight:H-3 10.00")
        assert len(reports(k, admin.id)) == 1


async def test_a_report_interrupted_between_two_officials_is_not_sent_twice(
    tmp_path: Path,
) -> None:
    from bot.preflight_jobs import run_scheduled_preflight  # after bot.app (import cycle)

    async with running_kentongan(tmp_path, now=BEFORE) as k:
        admin = k.admin()  # told first (lowest user id), then Lowokwaru's camat, then Klojen's
        await add_camat(k, CAMAT_LOWOKWARU, LOWOKWARU)
        await add_camat(k, CAMAT_KLOJEN, KLOJEN)
        await k.registered_groups(2)
        # The camat's message hangs (and is never delivered); the bot dies meanwhile.
        held = k.server.add_fault(
            Fault("timeout", method="sendMessage", chat_id=CAMAT_LOWOKWARU, times=1)
        )
        k.clock.set(DUE)
        run = asyncio.create_task(run_scheduled_preflight(k.app, "H-3 10.00"))
        await k.server.wait_until(lambda: reports(k, admin.id) and held.fired, 30)
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run
        unreported = "SELECT slot FROM preflight_runs WHERE reported_at IS NULL"
        assert k.db_rows(unreported) == [("H-3 10.00",)]
        checks = len(k.server.calls_to("getChatMember")) + len(k.server.calls_to("getChat"))

        # The restart finds the slot unreported and tells only those not yet told.
        await k.restart()
        await k.server.wait_until(lambda: reports(k, CAMAT_LOWOKWARU) and reports(k, CAMAT_KLOJEN))
        row = "SELECT reported_to FROM preflight_runs WHERE reported_at IS NOT NULL"
        assert await k.server.wait_until(lambda: k.db_rows(row), 30) == [(3,)]
        assert [len(reports(k, u)) for u in (admin.id, CAMAT_LOWOKWARU, CAMAT_KLOJEN)] == [1, 1, 1]
        # The groups were checked before the interruption: not asked about again.
        again = len(k.server.calls_to("getChatMember")) + len(k.server.calls_to("getChat"))
        assert again == checks
