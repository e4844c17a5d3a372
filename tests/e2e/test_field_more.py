"""Field gaps through the local Bot API server: a leader asked for two descriptions at once."""

from __future__ import annotations

from sqlalchemy import select

from db.models import CheckInFollowUp
from tests.e2e.harness import Harness
from tests.e2e.test_acks import group_in_world, register
from tests.e2e.test_checkins import KEL, asks, plug_opener, press, send_checkin

DONE = "✅ Terima kasih, uraian masalah sudah diteruskan ke petugas Pemkot."


async def descriptions(h: Harness) -> dict[int, str | None]:
    async with h.services.sessions() as session:
        rows = (await session.scalars(select(CheckInFollowUp))).all()
    return {row.group_id: row.description for row in rows}


async def test_a_leader_asked_in_two_groups_loses_neither_description(kentongan: Harness) -> None:
    h = kentongan
    plug_opener(h)
    ketua = h.world.add_user("Pak RW", started=True)
    rw = group_in_world(h, "RW 03 Oro-oro Dowo", admins=[ketua])
    rt = group_in_world(h, "RT 01 RW 03 Oro-oro Dowo", admins=[ketua])
    rw_id = await register(h, rw, KEL, rw=3)
    rt_id = await register(h, rt, KEL, rw=3, rt=1)
    broadcast_id = await send_checkin(h)

    # "Ada masalah" in both groups: two asks, the second does not replace the first.
    before_rw, before_rt = h.world.last_bot_message(rw), h.world.last_bot_message(rt)
    await press(h, ketua, rw, broadcast_id, "masalah")
    ask_rw = await h.server.wait_for_message(rw, asks, after=before_rw.message_id)  # type: ignore[union-attr]
    await press(h, ketua, rt, broadcast_id, "masalah")
    await h.server.wait_for_message(rt, asks, after=before_rt.message_id)  # type: ignore[union-attr]

    # The reply in the first group goes to the first group's report.
    h.world.user_sends(ketua, rw, "Kotak suara TPS 07 belum datang.", reply_to=ask_rw)
    done = await h.server.wait_for_message(rw, lambda m: m.text == DONE, after=ask_rw.message_id)
    assert done.text == DONE
    assert await descriptions(h) == {rw_id: "Kotak suara TPS 07 belum datang.", rt_id: None}
    # The second group's ask still waits: a private message fills it, naming the group.
    reply = await h.say(ketua, "Bilik suara TPS 08 kurang satu.")
    assert reply.text == DONE
    assert await descriptions(h) == {
        rw_id: "Kotak suara TPS 07 belum datang.",
        rt_id: "Bilik suara TPS 08 kurang satu.",
    }


async def test_private_descriptions_fill_the_waiting_asks_oldest_first(kentongan: Harness) -> None:
    h = kentongan
    plug_opener(h)
    ketua = h.world.add_user("Bu RW", started=True)
    rw = group_in_world(h, "RW 04 Oro-oro Dowo", admins=[ketua])
    rt = group_in_world(h, "RT 02 RW 04 Oro-oro Dowo", admins=[ketua])
    rw_id = await register(h, rw, KEL, rw=4)
    rt_id = await register(h, rt, KEL, rw=4, rt=2)
    broadcast_id = await send_checkin(h)
    for chat in (rw, rt):
        before = h.world.last_bot_message(chat)
        await press(h, ketua, chat, broadcast_id, "masalah")
        await h.server.wait_for_message(chat, asks, after=before.message_id)  # type: ignore[union-attr]

    first = await h.say(ketua, "Logistik RW 04 belum datang.")
    # Said for which group, and that the next message goes to the other one.
    assert "«RW 04 Oro-oro Dowo»" in (first.text or "")
    assert "Masih ada 1 permintaan uraian" in (first.text or "")
    assert "«RT 02 RW 04 Oro-oro Dowo»" in (first.text or "")
    second = await h.say(ketua, "Logistik RT 02 belum datang.")
    assert second.text == DONE
    assert await descriptions(h) == {
        rw_id: "Logistik RW 04 belum datang.",
        rt_id: "Logistik RT 02 belum datang.",
    }
