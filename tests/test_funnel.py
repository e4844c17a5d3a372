"""The onboarding funnel per kelurahan on a real SQLite file: numbers, CSV columns, chart."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import update

from bot.funnel_chart import funnel_chart, labels, rows_for
from db.engine import SessionFactory
from db.models import DeliveryStatus, Group
from domain.acks import Press, record_presses
from domain.coverage import coverage_csv, import_list, neighbourhood_coverage, parse_list
from domain.funnel import Funnel, FunnelRow, funnel
from domain.regions import read_regions
from election.profile import ElectionProfile
from scheduler.clock import FixedClock
from tests.test_acks import MESSAGE, add_broadcast, add_group

OOD, SUMBERSARI = "35.73.02.1008", "35.73.05.1005"
SENT = DeliveryStatus.SENT


async def scenario(sessions: SessionFactory, clock: FixedClock) -> None:
    now = clock.now()
    listed = parse_list("kelurahan,rw,rt\nOro-oro Dowo,3,1\nOro-oro Dowo,4,\n", read_regions())
    async with sessions.begin() as session:
        await import_list(session, listed, 1, now)  # RW 3 (implied), RT 3/1, RW 4
    rt31 = await add_group(sessions, now, -1, OOD, 3, 1)
    rw4 = await add_group(sessions, now, -2, OOD, 4, None)
    sb = await add_group(sessions, now, -3, SUMBERSARI, 5, None)
    async with sessions.begin() as session:
        # RW 4 has the bot but stopped (/berhenti); one group has the bot and no place yet.
        await session.execute(update(Group).where(Group.id == rw4).values(subscribed=False))
        session.add(Group(chat_id=-4, title="baru", created_at=now, updated_at=now))
    older = await add_broadcast(sessions, now, {rt31: SENT, sb: SENT})
    clock.advance(timedelta(hours=1))
    latest = await add_broadcast(sessions, clock.now(), {rt31: SENT, sb: SENT})
    clock.advance(timedelta(hours=1))
    await add_broadcast(sessions, clock.now(), {sb: SENT}, parent_id=latest)  # its nudge
    async with sessions.begin() as session:
        await record_presses(session, [Press(older, -3, MESSAGE, 100, "Ketua")], now)
        await record_presses(session, [Press(latest, -1, MESSAGE, 101, "Warga")], now)


async def test_funnel_per_kelurahan_counts_each_stage(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    await scenario(sessions, clock)
    async with sessions() as session:
        result = await funnel(session)
        klojen = await funnel(session, "35.73.02")
    rows = {r.name: r for r in result.rows if r.listed or r.added}
    assert {n: (r.listed, r.added, r.registered, r.acknowledged) for n, r in rows.items()} == {
        "Oro-oro Dowo": (3, 2, 1, 1),
        "Sumbersari": (0, 1, 1, 0),  # it acknowledged an older broadcast, not the latest
    }
    assert result.unplaced == 1 and len(result.rows) == 57
    total = result.total()
    assert (total.listed, total.added, total.registered, total.acknowledged) == (3, 3, 2, 1)
    assert {r.kecamatan for r in klojen.rows} == {"Klojen"} and klojen.unplaced == 0


async def test_coverage_csv_carries_the_funnel_columns(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    await scenario(sessions, clock)
    async with sessions() as session:
        report = await neighbourhood_coverage(session)
    rows = list(csv.DictReader(io.StringIO(coverage_csv(report).decode("utf-8-sig"))))
    got = {
        (r["tingkat"], r["rw"], r["rt"]): (
            r["ada_grup"],
            r["bot_di_grup"],
            r["konfirmasi_siaran_terakhir"],
        )
        for r in rows
    }
    assert got == {
        ("RW", "3", ""): ("tidak", "tidak", "tidak"),
        ("RT", "3", "1"): ("ya", "ya", "ya"),
        ("RW", "4", ""): ("tidak", "ya", "tidak"),  # the bot is there, the group stopped
    }


async def test_funnel_chart_is_a_phone_wide_png_of_the_lagging_kelurahan(
    sessions: SessionFactory, clock: FixedClock, profile: ElectionProfile
) -> None:
    await scenario(sessions, clock)
    async with sessions() as session:
        result = await funnel(session)
    names = labels(result, profile, clock.now(), "Kota Malang")
    assert names.title.startswith("Corong pendaftaran · Kota Malang\n3 RW/RT di daftar")
    assert names.unplaced.startswith("1 grup")
    image = Image.open(io.BytesIO(funnel_chart(result, names)))
    assert image.format == "PNG" and image.width == 1080
    # Many kelurahan: only the lowest registration rates are drawn.
    many = Funnel(
        [
            FunnelRow(f"k{i}", f"Kel {i}", "Kec", listed=10, added=i, registered=i)
            for i in range(30)
        ],
        0,
        None,
    )
    shown, lowest = rows_for(many)
    assert lowest and [r.name for r in shown][:3] == ["Kel 0", "Kel 1", "Kel 2"]
    assert len(shown) == 15
