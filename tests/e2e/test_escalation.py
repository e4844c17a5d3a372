"""Acknowledgement escalation end to end, on the test clock (issue 15).

Voting morning: "TPS sudah buka" (timeline step h-tps-buka, which the profile says must be
acknowledged) goes to four groups. The chain then runs only for the groups still silent: +60
min the reminder in the group (its job rebuilt at a restart), +120 the registered admin in
private chat, +180 the lurah's staff, +240 the camat's; each step once, all shown in /belum.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.escalation_jobs import run_due_escalations
from db.models import Group, OfficialRole
from domain.officials import set_scope
from messages.telegram_html import visible_text
from tests.authority_fixtures import seed_official
from tests.e2e.harness import Harness, running_kentongan
from tests.e2e.test_acks import THANKS, group_in_world, press_ack, register, send_broadcast

BEFORE = datetime(2024, 11, 26, 23, 50, tzinfo=UTC)  # H 06.50 WIB
OPEN = datetime(2024, 11, 27, 0, 0, tzinfo=UTC)  # H 07.00 WIB
LOWOKWARU, SUMBERSARI, DINOYO = "35.73.05", "35.73.05.1005", "35.73.05.1004"
KLOJEN, ORO_ORO_DOWO = "35.73.02", "35.73.02.1008"
LURAH_SB, CAMAT_LW, CAMAT_KJ = 940001, 940002, 940003


def private(h: Harness, user_id: int) -> list[str]:
    return [visible_text(m.text) for m in h.world.bot_messages(h.world.users[user_id])]


async def test_the_chain_runs_only_for_silent_groups_and_reaches_lurah_then_camat(
    tmp_path: Path,
) -> None:
    async with running_kentongan(tmp_path, now=BEFORE) as h:
        admin = h.admin()
        async with h.services.sessions.begin() as session:
            lurah = await seed_official(session, LURAH_SB, OfficialRole.OPERATOR, BEFORE)
            set_scope(lurah, SUMBERSARI)
            await seed_official(
                session, CAMAT_LW, OfficialRole.ADMIN, BEFORE, kecamatan_code=LOWOKWARU
            )
            await seed_official(
                session, CAMAT_KJ, OfficialRole.ADMIN, BEFORE, kecamatan_code=KLOJEN
            )
        for uid in (LURAH_SB, CAMAT_LW, CAMAT_KJ):
            h.world.add_user(f"Petugas {uid}", user_id=uid, started=True)
        leaders = {
            "sb1": h.world.add_user("Ketua sb1"),
            "sb2": h.world.add_user("Ketua sb2", started=True),
            "dn": h.world.add_user("Ketua dn"),  # never started the bot
            "ood": h.world.add_user("Ketua ood", started=True),
        }
        places = {
            "sb1": ("RW 01 Sumbersari", SUMBERSARI, 1),
            "sb2": ("RW 02 Sumbersari", SUMBERSARI, 2),
            "dn": ("RW 01 Dinoyo", DINOYO, 1),
            "ood": ("RW 03 Oro-oro Dowo", ORO_ORO_DOWO, 3),
        }
        groups = {}
        for name, (title, kelurahan, rw) in places.items():
            groups[name] = group_in_world(h, title, admins=[leaders[name]])
            group_id = await register(h, groups[name], kelurahan, rw=rw)
            async with h.services.sessions.begin() as session:
                row = await session.get(Group, group_id)
                assert row is not None
                row.subscribed_by = leaders[name].id  # the leader who ran /daftar

        h.clock.set(OPEN)
        await h.run_due()
        [(bid,)] = h.db_rows("SELECT id FROM broadcasts WHERE timeline_key LIKE '%:h-tps-buka'")
        assert h.db_rows("SELECT status FROM broadcasts WHERE id = ?", bid) == [("done",)]
        assert await press_ack(h, leaders["sb1"], groups["sb1"], bid) == THANKS
        assert await run_due_escalations(h.app) == []  # nothing due before +60

        # +60: a restart rebuilds the step's job, which sends the reminder to the silent three.
        h.clock.set(OPEN + timedelta(minutes=60))
        await h.restart()
        await h.server.wait_until(
            lambda: h.db_rows("SELECT id FROM broadcasts WHERE parent_id = ?", bid), 10
        )
        [(nudge,)] = h.db_rows("SELECT id FROM broadcasts WHERE parent_id = ?", bid)
        await h.run_due()
        for name in ("sb2", "dn", "ood"):
            assert any("belum" in (m.text or "") for m in h.world.bot_messages(groups[name]))
        # Acknowledged: no reminder (the 07.15 check-in "TPS sudah dibuka?" is not one).
        reminders = [m for m in h.world.bot_messages(groups["sb1"]) if "belum" in (m.text or "")]
        assert len(h.world.bot_messages(groups["sb1"])) >= 1 and reminders == []
        assert await press_ack(h, leaders["ood"], groups["ood"], nudge) == THANKS

        # +120: the registered admins of the two still silent groups (one never started).
        h.clock.set(OPEN + timedelta(minutes=120))
        [admins] = await run_due_escalations(h.app)
        assert (admins.action, admins.groups, admins.notified) == ("admin", 2, 1)
        assert any("RW 02 Sumbersari" in t for t in private(h, leaders["sb2"].id))
        assert private(h, leaders["ood"].id) == []  # acknowledged after the reminder

        # +180: the lurah's staff of Sumbersari; Dinoyo has none.
        h.clock.set(OPEN + timedelta(minutes=180))
        [lurah] = await run_due_escalations(h.app)
        assert (lurah.action, lurah.officials) == ("lurah", [LURAH_SB])
        [listing] = [t for t in private(h, LURAH_SB) if "belum konfirmasi" in t]
        assert "1 grup di Kelurahan Sumbersari" in listing and "RW 02" in listing
        assert "Dinoyo" not in listing
        assert not [t for t in private(h, CAMAT_LW) if "belum konfirmasi" in t]

        # +240: the camat of Lowokwaru gets both silent groups; Klojen's has nothing to hear.
        h.clock.set(OPEN + timedelta(minutes=240))
        [camat] = await run_due_escalations(h.app)
        assert (camat.action, camat.officials) == ("camat", [CAMAT_LW])
        [listing] = [t for t in private(h, CAMAT_LW) if "belum konfirmasi" in t]
        assert "2 grup di Kecamatan Lowokwaru" in listing
        assert "RW 02 · RW 02 Sumbersari (Sumbersari)" in listing and "Dinoyo" in listing
        assert not [t for t in private(h, CAMAT_KJ) if "belum konfirmasi" in t]

        # Each step once: nothing more now, nor after a restart.
        h.clock.set(OPEN + timedelta(minutes=300))
        assert await run_due_escalations(h.app) == []
        await h.restart()
        assert h.app.job_queue is not None
        assert not [j for j in h.app.job_queue.jobs() if (j.name or "").startswith("escalation:")]
        steps = "SELECT step, action, count(*) FROM escalation_steps GROUP BY step, action"
        assert h.db_rows(steps + " ORDER BY step") == [
            (0, "grup", 3),
            (1, "admin", 2),
            (2, "lurah", 2),
            (3, "camat", 2),
        ]

        listing = await h.say(admin, f"/belum {bid}")
        body = visible_text(listing.text)
        assert (
            "🪜 Eskalasi: pengingat di grup 08.00 (3 grup); pesan ke admin grup 09.00 (2 grup); "
            "ke petugas kelurahan 10.00 (2 grup); ke petugas kecamatan 11.00 (2 grup)"
        ) in body


async def test_an_admin_asks_for_the_chain_on_their_own_broadcast(tmp_path: Path) -> None:
    async with running_kentongan(tmp_path, now=OPEN) as h:
        admin = h.admin()
        async with h.services.sessions.begin() as session:
            await seed_official(session, CAMAT_KJ, OfficialRole.ADMIN, OPEN, kecamatan_code=KLOJEN)
            await seed_official(session, CAMAT_LW, OfficialRole.OPERATOR, OPEN)
        camat = h.world.add_user("Camat Klojen", user_id=CAMAT_KJ, started=True)
        operator = h.world.add_user("Operator", user_id=CAMAT_LW, started=True)
        quiet = group_in_world(h, "RW 01 Sumbersari", admins=[h.world.add_user("Ketua")])
        await register(h, quiet, SUMBERSARI, rw=1)
        bid = await send_broadcast(h, "<b>Siaga banjir</b>: pantau kanal resmi.")

        assert "nomor siarannya" in visible_text((await h.say(admin, "/eskalasi")).text)
        reply = await h.say(admin, "/eskalasi 999")
        assert "Siaran #999 tidak ditemukan" in visible_text(reply.text)
        reply = await h.say(operator, f"/eskalasi {bid}")
        assert "Hanya admin" in visible_text(reply.text)
        reply = await h.say(camat, f"/eskalasi {bid}")  # "all" reaches beyond Klojen
        assert "di luar wilayah Anda" in visible_text(reply.text)
        reply = await h.say(admin, f"/eskalasi {bid}")
        assert visible_text(reply.text).startswith(
            f"🪜 Siaran #{bid} wajib dikonfirmasi. Grup yang belum menekan"
        )
        assert "pengingat di grup (+60 menit), pesan ke admin grup (+120 menit)" in reply.text
        reply = await h.say(admin, f"/eskalasi {bid}")
        assert "sudah wajib dikonfirmasi" in visible_text(reply.text)

        h.clock.set(OPEN + timedelta(minutes=60))
        # (The voting-morning timeline went out at start too, and has its own chain.)
        [step] = [r for r in await run_due_escalations(h.app) if r.broadcast_id == bid]
        assert (step.action, step.groups) == ("grup", 1)
        await h.run_due()
        assert any("belum" in (m.text or "") for m in h.world.bot_messages(quiet))
        assert h.db_rows("SELECT count(*) FROM audit_log WHERE action = 'broadcast.ack_chain'") == [
            (1,)
        ]
