"""/privasi, /hapusdata (one person's data deleted, with confirmation) and retention."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.context import BotContext
from bot.handlers.privacy import JOB_ID, retention_job
from db.models import Acknowledgement, AuditEntry
from domain.privacy import retention_cutoff
from tests.e2e.harness import Harness
from tests.e2e.test_acks import THANKS, group_in_world, press_ack, register
from tests.e2e.test_acks import send_broadcast as broadcast


async def _acks_of(h: Harness, user_id: int | None = None) -> int:
    query = select(func.count()).select_from(Acknowledgement)
    if user_id is not None:
        query = query.where(Acknowledgement.user_id == user_id)
    async with h.services.sessions() as session:
        return int(await session.scalar(query) or 0)


async def _audit(h: Harness, action: str) -> list[AuditEntry]:
    async with h.services.sessions() as session:
        return list(
            (await session.scalars(select(AuditEntry).where(AuditEntry.action == action))).all()
        )


async def _two_groups_pressed(h: Harness) -> tuple[int, int, int]:
    """Siti presses in two groups, Budi in one; (siti, budi, broadcast ids…)."""
    siti, budi, leader = (h.world.add_user(n, started=True) for n in ("Siti", "Budi", "Pak RW"))
    rw = group_in_world(h, "RW 05 Sumbersari", admins=[leader], members=[siti, budi])
    rt = group_in_world(h, "RT 01 RW 05 Sumbersari", admins=[leader], members=[siti])
    await register(h, rw, "35.73.05.1005", rw=5)
    await register(h, rt, "35.73.05.1005", rw=5, rt=1)
    broadcast_id = await broadcast(h)
    for user, chat in ((siti, rw), (siti, rt), (budi, rw)):
        assert await press_ack(h, user, chat, broadcast_id) == THANKS
    await h.server.wait_until(lambda: h.db_rows("SELECT count(*) FROM acknowledgements")[0][0] == 3)
    return siti.id, budi.id, broadcast_id


async def test_privasi_says_what_why_how_long_and_whom_to_ask(kentongan: Harness) -> None:
    h = kentongan
    warga = h.world.add_user("Warga", started=True)
    reply = await h.say(warga, "/privasi")
    text = reply.text or ""
    assert "Nama Anda tidak disimpan" in text
    assert "90 hari" in text and "Selasa, 25 Februari 2025" in text  # 27 Nov 2024 + 90 days
    assert "Diskominfo" in text and "https://malangkota.go.id" in text
    assert "/hapusdata" in text


@pytest.mark.both_databases
async def test_hapusdata_deletes_one_persons_data_after_confirmation(kentongan: Harness) -> None:
    h = kentongan
    siti_id, budi_id, _ = await _two_groups_pressed(h)
    siti = h.world.users[siti_id]

    ask = await h.say(siti, "/hapusdata")
    assert "Hapus data Anda?" in (ask.text or "") and ": 2" in (ask.text or "")
    cancelled = await h.press(siti, ask, "Batal")
    assert cancelled is not None and "tidak ada data yang dihapus" in (cancelled.text or "")
    assert await _acks_of(h, siti_id) == 2

    ask = await h.say(siti, "/hapusdata")
    done = await h.press(siti, ask, "Ya, hapus data saya")
    assert done is not None and "sudah dihapus (2 catatan)" in (done.text or "")
    assert await _acks_of(h, siti_id) == 0
    assert await _acks_of(h, budi_id) == 1  # nobody else's
    (entry,) = await _audit(h, "privacy.erase")
    assert entry.actor_id == siti_id and json.loads(entry.detail) == {
        "acknowledgements": 2,
        "checkin_answers": 0,
        "checkin_followups": 0,
        "resident_questions": 0,
        "flow_states": 0,
        "field_reports": 0,
    }

    again = await h.say(siti, "/hapusdata")
    assert "tidak menyimpan data tentang Anda" in (again.text or "")


async def test_hapusdata_in_a_group_points_to_the_private_chat(kentongan: Harness) -> None:
    h = kentongan
    leader = h.world.add_user("Pak RT")
    chat = group_in_world(h, "RT 02 RW 01 Bareng", admins=[leader])
    reply = await h.say(leader, "/hapusdata", chat)
    assert "chat pribadi" in (reply.text or "")


async def test_retention_deletes_after_the_period_and_is_audited(kentongan: Harness) -> None:
    h = kentongan
    assert h.app.job_queue is not None
    assert [j.name for j in h.app.job_queue.get_jobs_by_name(JOB_ID)] == [JOB_ID]
    await _two_groups_pressed(h)
    context = BotContext(h.app)
    cutoff = retention_cutoff(h.services.profile, h.settings.retention_days)
    # 00.00 WIB on 25 February 2025, 90 days after election day.
    assert cutoff.isoformat() == "2025-02-24T17:00:00+00:00"

    h.clock.set(cutoff - timedelta(minutes=1))
    await retention_job(context)
    assert await _acks_of(h) == 3 and await _audit(h, "privacy.retention") == []

    h.clock.set(cutoff + timedelta(hours=3))
    await retention_job(context)
    assert await _acks_of(h) == 0
    (entry,) = await _audit(h, "privacy.retention")
    assert entry.actor_id is None and json.loads(entry.detail) == {
        "acknowledgements": 3,
        "checkin_answers": 0,
        "checkin_followups": 0,
        "resident_questions": 0,
        "flow_states": 0,
        "field_reports": 0,
    }
    await retention_job(context)  # daily: the next run finds nothing and audits nothing
    assert len(await _audit(h, "privacy.retention")) == 1
