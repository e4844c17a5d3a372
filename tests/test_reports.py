"""Reports, nudges, coverage and the shell on a real SQLite file, without Telegram."""

from __future__ import annotations

import csv
import io
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.charts import report_chart
from bot.report_cli import main as report_main
from db.engine import SessionFactory
from db.models import (
    AuditEntry,
    Broadcast,
    BroadcastSource,
    BroadcastStatus,
    DeliveryStatus,
    Kelurahan,
    Neighbourhood,
    OfficialRole,
)
from domain.acks import Press, record_presses
from domain.coverage import (
    ListRejected,
    coverage_csv,
    import_list,
    neighbourhood_coverage,
    parse_list,
)
from domain.nudges import NudgeAlreadySent, NudgeRefused, create_nudge
from domain.officials import Actor, PermissionDenied
from domain.regions import read_regions
from domain.report_groups import group_lines, report_csv
from domain.report_text import MAX_TEXT, report_text, unacknowledged_text
from domain.reports import ReportError, Tally, broadcast_report, recent_broadcasts
from election.profile import ElectionProfile
from messages.telegram_html import telegram_length, validate_html, visible_text
from scheduler.clock import FixedClock
from tests.test_acks import MESSAGE, add_broadcast, add_group

OOD, SUMBERSARI, BARENG = "35.73.02.1008", "35.73.05.1005", "35.73.02.1009"
ADMIN = Actor(1, OfficialRole.ADMIN, None)
KLOJEN_ADMIN = Actor(2, OfficialRole.ADMIN, "35.73.02")
OPERATOR = Actor(3, OfficialRole.OPERATOR, "35.73.05")


async def scenario(sessions: SessionFactory, clock: FixedClock) -> int:
    """Oro-oro Dowo: 3 delivered (leader acked, member acked, none); Bareng: 1 delivered
    (none); Sumbersari: 1 delivered (leader acked), 1 failed."""
    now = clock.now()
    g = {
        "ood1": await add_group(sessions, now, -11, OOD, 3, 1),
        "ood2": await add_group(sessions, now, -12, OOD, 3, 2),
        "ood": await add_group(sessions, now, -13, OOD, 3, None),
        "bareng": await add_group(sessions, now, -14, BARENG, 1, None),
        "sb": await add_group(sessions, now, -15, SUMBERSARI, 5, None),
        "sb2": await add_group(sessions, now, -16, SUMBERSARI, 5, 2),
    }
    status = dict.fromkeys(g.values(), DeliveryStatus.SENT) | {g["sb2"]: DeliveryStatus.FAILED}
    b = await add_broadcast(sessions, now, status)
    async with sessions.begin() as session:
        await record_presses(
            session,
            [
                Press(b, -11, MESSAGE, 100, "Ketua", is_admin=True),
                Press(b, -11, MESSAGE, 101, "Warga"),
                Press(b, -12, MESSAGE, 102, "Warga"),
                Press(b, -15, MESSAGE, 103, "Ketua RW", is_admin=True),
            ],
            now,
        )
    return b


async def test_report_numbers_per_kecamatan_and_kelurahan(
    sessions: SessionFactory, clock: FixedClock, profile: ElectionProfile
) -> None:
    b = await scenario(sessions, clock)
    async with sessions() as session:
        report = await broadcast_report(session, b)
        latest = await broadcast_report(session, None)
    assert latest.broadcast.id == b
    assert report.total == Tally(targeted=6, delivered=5, failed=1, acknowledged=3, leader=2)
    assert report.total.rate == pytest.approx(0.6)
    by_name = {kel.name: kel.tally for _, kel in report.kelurahan()}
    assert by_name == {
        "Bareng": Tally(1, 1, 0, 0, 0),
        "Oro-oro Dowo": Tally(3, 3, 0, 2, 1),
        "Sumbersari": Tally(2, 1, 1, 1, 1),
    }
    assert [(k.name, k.tally.targeted) for k in report.kecamatan] == [
        ("Klojen", 4),
        ("Lowokwaru", 2),
    ]
    text = visible_text(report_text(report, profile))
    assert "6 grup dituju · 5 terkirim · 1 gagal" in text
    assert "Oro-oro Dowo: 3/3 · 2 (67%) · 1" in text
    assert validate_html(report_text(report, profile)) == []


async def test_group_lines_and_csv(
    sessions: SessionFactory, clock: FixedClock, profile: ElectionProfile
) -> None:
    b = await scenario(sessions, clock)
    async with sessions() as session:
        lines = await group_lines(session, b)
        unacked = await group_lines(session, b, unacknowledged_only=True)
        report = await broadcast_report(session, b)
    seen = [(ln.kelurahan, ln.place, ln.acknowledgements, ln.leader_acknowledged) for ln in lines]
    assert seen == [
        ("Bareng", "RW 01", 0, False),
        ("Oro-oro Dowo", "RW 03", 0, False),
        ("Oro-oro Dowo", "RT 01/RW 03", 2, True),
        ("Oro-oro Dowo", "RT 02/RW 03", 1, False),
        ("Sumbersari", "RW 05", 1, True),
        ("Sumbersari", "RT 02/RW 05", 0, False),
    ]  # fmt: skip
    assert [ln.place for ln in unacked] == ["RW 01", "RW 03"]
    rows = list(csv.reader(io.StringIO(report_csv(lines, profile.tz).decode("utf-8-sig"))))
    assert rows[0][8] == "waktu_kirim_wib"
    assert rows[3] == [
        "Klojen", "Oro-oro Dowo", "RT", "3", "1", "grup -11", "-11", "terkirim",
        "2024-11-25 08:00", "2", "ya", "",
    ]  # fmt: skip
    assert rows[6][7:] == ["gagal", "", "0", "tidak", "Forbidden: bot was kicked"]
    text = visible_text(unacknowledged_text(report, unacked, profile))
    assert "2 dari 5 grup penerima belum" in text
    assert "• Bareng (Klojen, 1): RW 01" in text
    assert "1 grup gagal dikirimi" in text


async def test_a_kecamatan_scope_sees_only_its_kecamatan(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    b = await scenario(sessions, clock)
    async with sessions() as session:
        report = await broadcast_report(session, b, "35.73.05")
        lines = await group_lines(session, b, "35.73.05")
        recent = await recent_broadcasts(session, "35.73.04")  # Sukun: nothing went there
    assert report.scope_name == "Kecamatan Lowokwaru"
    assert report.total == Tally(2, 1, 1, 1, 1)
    assert {ln.kelurahan for ln in lines} == {"Sumbersari"}
    assert recent == []


async def test_acknowledging_a_nudge_counts_for_the_original(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    b = await scenario(sessions, clock)
    now = clock.now()
    async with sessions() as session:
        bareng = (await group_lines(session, b, unacknowledged_only=True))[0].group_id
    nudge = await add_broadcast(sessions, now, {bareng: DeliveryStatus.SENT}, parent_id=b)
    async with sessions.begin() as session:
        await record_presses(session, [Press(nudge, -14, MESSAGE, 200)], now)
    async with sessions() as session:
        report = await broadcast_report(session, b)
    assert report.total.acknowledged == 4
    assert [f.id for f in report.follow_ups] == [nudge]


async def test_unknown_broadcast_and_empty_database(sessions: SessionFactory) -> None:
    async with sessions() as session:
        with pytest.raises(ReportError, match="Belum ada siaran"):
            await broadcast_report(session, None)
        with pytest.raises(ReportError, match="#42 tidak ditemukan"):
            await broadcast_report(session, 42)


async def test_a_citywide_report_stays_short_and_the_chart_readable(
    sessions: SessionFactory, clock: FixedClock, profile: ElectionProfile
) -> None:
    now = clock.now()
    async with sessions() as session:
        kelurahan = (await session.scalars(select(Kelurahan.code))).all()
    groups = [
        await add_group(sessions, now, -1000 - i, kelurahan[i % len(kelurahan)], i % 9 + 1, i)
        for i in range(1, 400)
    ]
    b = await add_broadcast(sessions, now, dict.fromkeys(groups, DeliveryStatus.SENT))
    async with sessions.begin() as session:
        await record_presses(
            session, [Press(b, -1000 - i, MESSAGE, 7) for i in range(1, 400, 3)], now
        )
    async with sessions() as session:
        report = await broadcast_report(session, b)
    assert len(report.kelurahan()) == 57
    text = report_text(report, profile)
    assert telegram_length(text) <= MAX_TEXT
    assert "Konfirmasi terendah" in text and text.count("Kec. ") == 5

    png = report_chart(report)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and 20_000 < len(png) < 2_000_000
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == 1080 and 600 < height < 2500  # Telegram: w + h <= 10000, ratio <= 20
    assert "matplotlib.pyplot" not in sys.modules


async def test_nudges_are_for_admins_once_per_broadcast_and_audited(
    sessions: SessionFactory, clock: FixedClock, profile: ElectionProfile
) -> None:
    b = await scenario(sessions, clock)
    now = clock.now()
    async with sessions.begin() as session:
        with pytest.raises(PermissionDenied, match="Hanya admin"):
            await create_nudge(session, OPERATOR, b, profile, now)
    async with sessions.begin() as session:
        nudge, recipients = await create_nudge(session, KLOJEN_ADMIN, b, profile, now)
    assert recipients == 2  # Bareng and RW 03 Oro-oro Dowo; Sumbersari is not Klojen's
    assert nudge.source is BroadcastSource.FOLLOW_UP and nudge.parent_id == b
    assert nudge.audience == f"unacked:{b}/kecamatan:35.73.02"
    assert nudge.status is BroadcastStatus.SCHEDULED and nudge.created_by == KLOJEN_ADMIN.user_id
    assert "Pengingat dari Pemerintah Kota Malang" in (nudge.text or "")
    assert "<b>Pengingat</b>" in (nudge.text or "")  # the original, quoted
    assert "Senin, 25 November 2024 pukul 08.00 WIB" in (nudge.text or "")
    assert validate_html(nudge.text or "") == []

    async with sessions.begin() as session:
        # While it is still being sent, no second one.
        with pytest.raises(NudgeRefused, match="masih dikirim"):
            await create_nudge(session, ADMIN, b, profile, now, again=True)
        (await session.get(Broadcast, nudge.id)).status = BroadcastStatus.DONE  # type: ignore[union-attr]
    async with sessions.begin() as session:
        with pytest.raises(NudgeAlreadySent) as already:
            await create_nudge(session, ADMIN, b, profile, now)
    assert already.value.recipients == 2 and "sudah dikirim" in str(already.value)
    async with sessions.begin() as session:
        second, recipients = await create_nudge(session, ADMIN, b, profile, now, again=True)
    assert recipients == 2 and second.audience == f"unacked:{b}"
    async with sessions() as session:
        entries = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "broadcast.follow_up")
            )
        ).all()
    assert [(e.actor_id, e.target) for e in entries] == [
        (KLOJEN_ADMIN.user_id, f"broadcast:{b}"),
        (ADMIN.user_id, f"broadcast:{b}"),
    ]


async def test_nudges_are_refused_when_they_make_no_sense(
    sessions: SessionFactory, clock: FixedClock, profile: ElectionProfile
) -> None:
    b = await scenario(sessions, clock)
    now = clock.now()
    async with sessions.begin() as session:
        parent = await session.get(Broadcast, b)
        assert parent is not None
        parent.expires_at = now - timedelta(minutes=1)
    async with sessions.begin() as session:
        with pytest.raises(NudgeRefused, match="tidak berlaku lagi"):
            await create_nudge(session, ADMIN, b, profile, now)
        with pytest.raises(NudgeRefused, match="tidak ditemukan"):
            await create_nudge(session, ADMIN, 999, profile, now)
    async with sessions.begin() as session:
        parent = await session.get(Broadcast, b)
        assert parent is not None
        parent.expires_at = None
    lowokwaru = Actor(9, OfficialRole.ADMIN, "35.73.05")  # Sumbersari: its one group acked
    async with sessions.begin() as session:
        with pytest.raises(NudgeRefused, match="sudah konfirmasi"):
            await create_nudge(session, lowokwaru, b, profile, now)


# -- coverage ---------------------------------------------------------------------------------


def test_parse_list_reports_every_bad_row_by_line() -> None:
    text = (
        "Kelurahan,RW,RT\n"
        "Oro-oro Dowo,03,01\n"
        "Atlantis,1,1\n"
        ",1,1\n"
        "Sumbersari,0,1\n"
        "\n"
        "Sumbersari,5,RT 100\n"
        "Sumbersari,RW 05,RT 02\n"
    )
    with pytest.raises(ListRejected) as rejected:
        parse_list(text, read_regions())
    assert [p.line for p in rejected.value.problems] == [3, 4, 5, 7]
    assert "Atlantis" in str(rejected.value.problems[0])
    with pytest.raises(ListRejected, match="judul kolom"):
        parse_list("nama;nomor\nx;1\n", read_regions())
    with pytest.raises(ListRejected, match="di luar wilayah Anda"):
        parse_list("kelurahan,rw,rt\nOro-oro Dowo,3,1\n", read_regions(), "35.73.05")


async def test_import_replaces_only_the_kelurahan_in_the_file(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    await add_group(sessions, now, -21, OOD, 3, 1)
    await add_group(sessions, now, -22, OOD, 3, None)
    first = parse_list(
        "kelurahan;rw;rt\nOro-oro Dowo;3;1\nOro-oro Dowo;3;2\nSumbersari;5;\n", read_regions()
    )
    async with sessions.begin() as session:
        summary = await import_list(session, first, ADMIN.user_id, now)
    assert (summary.kelurahan, summary.rw, summary.rt, summary.replaced) == (2, 2, 2, 0)
    second = parse_list("kelurahan,rw,rt\n35.73.02.1008,3,1\n35.73.02.1008,4,\n", read_regions())
    async with sessions.begin() as session:
        summary = await import_list(session, second, ADMIN.user_id, now)
    assert summary.replaced == 3  # Oro-oro Dowo's RW 3 (implied by its RTs), RT 3/1, RT 3/2
    async with sessions() as session:
        report = await neighbourhood_coverage(session)
        count = await session.scalar(select(func.count()).select_from(Neighbourhood))
    assert count == 4  # Oro-oro Dowo: RW 3, RW 4, RT 3/1; Sumbersari: RW 5
    ood = next(k for k in report.kelurahan if k.code == OOD)
    assert (ood.rw_listed, ood.rw_covered, ood.rt_listed, ood.rt_covered) == (2, 1, 1, 1)
    assert ood.missing == [(4, None)]
    rows = list(csv.reader(io.StringIO(coverage_csv(report).decode("utf-8-sig"))))
    assert rows[0] == [
        "kecamatan", "kelurahan", "tingkat", "rw", "rt", "ada_grup", "nama_grup",
        "bot_di_grup", "konfirmasi_siaran_terakhir",
    ]  # fmt: skip
    assert ["Klojen", "Oro-oro Dowo", "RT", "3", "1", "ya", "grup -21", "ya", "tidak"] in rows
    assert ["Lowokwaru", "Sumbersari", "RW", "5", "", "tidak", "", "tidak", "tidak"] in rows


# -- the shell --------------------------------------------------------------------------------


@pytest.fixture
def shell_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ADMIN_IDS", "")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run_cli(argv: list[str]) -> int:
    # The CLI runs its own event loop, as `python -m bot report` does: off the test's loop.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(report_main, argv).result()


async def test_report_from_the_shell(
    sessions: SessionFactory,
    clock: FixedClock,
    shell_env: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    b = await scenario(sessions, clock)
    assert _run_cli([]) == 0
    out = capsysbinary.readouterr().out.decode()
    assert f"Laporan siaran #{b}" in out and "<b>" not in out
    assert "6 grup dituju · 5 terkirim · 1 gagal" in out

    assert _run_cli(["--broadcast", str(b), "--format", "csv", "--kecamatan", "35.73.05"]) == 0
    rows = list(csv.reader(io.StringIO(capsysbinary.readouterr().out.decode("utf-8-sig"))))
    assert len(rows) == 3 and {r[1] for r in rows[1:]} == {"Sumbersari"}

    assert _run_cli(["--broadcast", str(b), "--format", "png"]) == 0
    png = (shell_env / f"laporan-siaran-{b}.png").read_bytes()
    assert png.startswith(b"\x89PNG")

    assert _run_cli(["--broadcast", "99"]) == 1
    assert "tidak ditemukan" in capsysbinary.readouterr().err.decode()
    assert _run_cli(["list"]) == 0
    assert f"#{b}" in capsysbinary.readouterr().out.decode()


async def test_coverage_import_from_the_shell(
    sessions: SessionFactory, shell_env: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    bad = shell_env / "bad.csv"
    bad.write_text("kelurahan,rw,rt\nSumbersari,5,1\nAtlantis,1,1\n", encoding="utf-8")
    assert _run_cli(["coverage-import", str(bad)]) == 1
    assert "baris 3" in capsysbinary.readouterr().err.decode()
    good = shell_env / "good.csv"
    good.write_text("kelurahan,rw,rt\nSumbersari,5,1\nSumbersari,5,2\n", encoding="utf-8")
    assert _run_cli(["coverage-import", str(good)]) == 0
    assert "1 kelurahan, 1 RW, 2 RT" in capsysbinary.readouterr().out.decode()
    assert _run_cli(["coverage", "--format", "csv", "--out", "cakupan.csv"]) == 0
    rows = (shell_env / "cakupan.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 4
    assert _run_cli(["coverage", "--kecamatan", "35.73.05"]) == 0
    assert "RT punya grup: 0/2" in capsysbinary.readouterr().out.decode()
