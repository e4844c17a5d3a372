"""Field reports, cases and posko groups on a real SQLite file, without Telegram."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.engine import SessionFactory
from db.models import (
    AuditEntry,
    CaseStatus,
    FieldCase,
    FieldReport,
    Group,
    GroupLevel,
    OfficialRole,
)
from domain.field import cases, categories, posko, reports
from domain.field.cases import Action, CaseRefusal, CaseRefused
from domain.field.reports import Refusal, ReportRefused, open_report
from domain.officials import Actor
from domain.privacy import erase_person

NOW = datetime(2024, 11, 26, 10, 0, tzinfo=UTC)
KLOJEN = "35.73.02"
ORO_ORO_DOWO = "35.73.02.1008"
LOWOKWARU = "35.73.05"
SUMBERSARI = "35.73.05.1005"
CITY_ADMIN = Actor(900001, OfficialRole.ADMIN, None, root=True)
KLOJEN_ADMIN = Actor(900002, OfficialRole.ADMIN, KLOJEN)
LOWOKWARU_OPERATOR = Actor(900003, OfficialRole.OPERATOR, LOWOKWARU)


async def group(
    sessions: SessionFactory,
    chat_id: int,
    kelurahan: str | None = ORO_ORO_DOWO,
    rw: int = 5,
    rt: int | None = None,
    subscribed: bool = True,
) -> int:
    async with sessions.begin() as session:
        row = Group(
            chat_id=chat_id,
            title=f"RW {rw}",
            level=GroupLevel.RT if rt else GroupLevel.RW,
            kelurahan_code=kelurahan,
            rw=rw,
            rt=rt,
            subscribed=subscribed,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(row)
        await session.flush()
        return row.id


def test_every_category_the_issue_names_is_data_with_a_referral() -> None:
    assert categories.keys() == (
        "logistik", "tps", "keamanan", "politik_uang", "netralitas", "hoaks", "cuaca", "lainnya",
    )  # fmt: skip
    logistik = categories.category("logistik")
    assert logistik is not None and logistik.details == ("belum_tiba", "kurang", "rusak")
    assert all(c.referral.startswith("ui.lapor.rujukan.") for c in categories.categories())


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Pak X bagi amplop, NIK 3573051234560001", "Pak X bagi amplop, NIK [NIK disembunyikan]"),
        ("3573 0512 3456 0001 ikut", "[NIK disembunyikan] ikut"),
        ("hubungi 0812-3456-78901", "hubungi 0812-3456-78901"),  # 15 digits: a phone stays
        ("TPS 07 RW 5", "TPS 07 RW 5"),
    ],
)
def test_sixteen_digit_numbers_are_masked(text: str, masked: str) -> None:
    assert reports.mask_nik(text) == masked


async def test_same_place_and_category_within_30_minutes_is_one_case(
    sessions: SessionFactory,
) -> None:
    first = await group(sessions, -1001)
    second = await group(sessions, -1002)  # another leader's group of the same RW
    async with sessions.begin() as session:
        a = await open_report(
            session, group_id=first, reporter_id=71, category="logistik",
            description="Kotak suara belum datang", source="lapor", now=NOW, tps="07",
            detail="belum_tiba",
        )  # fmt: skip
        b = await open_report(
            session, group_id=second, reporter_id=72, category="logistik", description=None,
            source="checkin:3", now=NOW + timedelta(minutes=29),
        )  # fmt: skip
        c = await open_report(
            session, group_id=first, reporter_id=71, category="keamanan",
            description="Keributan", source="lapor", now=NOW + timedelta(minutes=30),
        )  # fmt: skip
        d = await open_report(
            session, group_id=first, reporter_id=71, category="logistik",
            description="TPS lain", source="lapor", now=NOW + timedelta(minutes=31), tps="8",
        )  # fmt: skip
    assert a.new_case and not b.new_case and b.case_id == a.case_id
    assert c.new_case and c.case_id != a.case_id  # another category
    assert d.new_case and d.case_id != a.case_id  # another TPS number
    async with sessions() as session:
        case = await session.get(FieldCase, a.case_id)
        assert case is not None and case.report_count == 2 and case.tps == "7"
        assert case.kecamatan_code == KLOJEN and case.rw == 5 and case.status is CaseStatus.NEW
        rows = await reports.reports_of(session, a.case_id)
        assert [r.source for r in rows] == ["lapor", "checkin:3"]
        assert rows[0].detail == "belum_tiba" and rows[0].source_chat_id == -1001
    # More than 30 minutes after the last report (of any TPS), the same problem is a new case.
    async with sessions.begin() as session:
        late = await open_report(
            session, group_id=second, reporter_id=72, category="logistik", description=None,
            source="lapor", now=NOW + timedelta(minutes=62),
        )  # fmt: skip
    assert late.new_case


async def test_refusals_change_nothing(sessions: SessionFactory) -> None:
    registered = await group(sessions, -1001)
    unregistered = await group(sessions, -1002, kelurahan=None, subscribed=False)
    cases_of = [
        (dict(group_id=unregistered), Refusal.NOT_REGISTERED),
        (dict(group_id=999_999), Refusal.UNKNOWN_GROUP),
        (dict(group_id=registered, category="pilkada"), Refusal.UNKNOWN_CATEGORY),
        (dict(group_id=registered, description="x" * 1001), Refusal.TOO_LONG),
        (dict(group_id=registered, tps="tujuh"), Refusal.BAD_TPS),
    ]
    for overrides, reason in cases_of:
        args: dict[str, object] = dict(
            reporter_id=71, category="tps", description="TPS belum buka", source="lapor", now=NOW
        )
        args.update(overrides)
        async with sessions.begin() as session:
            with pytest.raises(ReportRefused) as refused:
                await open_report(session, **args)  # type: ignore[arg-type]
        assert refused.value.reason is reason
    async with sessions() as session:
        assert (await session.scalars(select(FieldReport))).all() == []


async def test_a_money_politics_report_may_name_who_gave_it(sessions: SessionFactory) -> None:
    gid = await group(sessions, -1001)
    text = "Tim paslon nomor 2 bagi amplop Rp50.000, coblos nomor 2 katanya"
    async with sessions.begin() as session:
        opened = await open_report(
            session, group_id=gid, reporter_id=71, category="politik_uang", description=text,
            source="lapor", now=NOW,
        )  # fmt: skip
    async with sessions() as session:
        report = await session.get(FieldReport, opened.report_id)
        assert report is not None and report.description == text


async def test_take_done_refer_with_events_audit_and_scope(sessions: SessionFactory) -> None:
    gid = await group(sessions, -1001)
    async with sessions.begin() as session:
        one = await open_report(
            session, group_id=gid, reporter_id=71, category="logistik", description="kurang",
            source="lapor", now=NOW,
        )  # fmt: skip
        two = await open_report(
            session, group_id=gid, reporter_id=71, category="politik_uang", description="amplop",
            source="lapor", now=NOW, source_chat_id=71,
        )  # fmt: skip
    later = NOW + timedelta(minutes=5)
    async with sessions.begin() as session:
        with pytest.raises(CaseRefused) as refused:
            await cases.change(session, LOWOKWARU_OPERATOR, one.case_id, Action.TAKE, later)
        assert refused.value.reason is CaseRefusal.OUT_OF_SCOPE
        taken = await cases.change(session, KLOJEN_ADMIN, one.case_id, Action.TAKE, later)
        assert taken.status is CaseStatus.HANDLING and taken.tell == ((-1001, (one.report_id,)),)
    async with sessions.begin() as session:
        with pytest.raises(CaseRefused) as refused:
            await cases.change(session, CITY_ADMIN, one.case_id, Action.TAKE, later)
        assert refused.value.reason is CaseRefusal.TAKEN
        assert refused.value.by == KLOJEN_ADMIN.user_id
        done = await cases.change(
            session, KLOJEN_ADMIN, one.case_id, Action.DONE, later, note="  Sudah  dikirim PPS "
        )
        assert done.status is CaseStatus.DONE and done.note == "Sudah dikirim PPS"
        referred = await cases.change(session, CITY_ADMIN, two.case_id, Action.REFER, later)
        assert referred.tell == ((71, (two.report_id,)),)
    async with sessions.begin() as session:
        with pytest.raises(CaseRefused) as refused:
            await cases.change(session, CITY_ADMIN, one.case_id, Action.REFER, later)
        assert refused.value.reason is CaseRefusal.CLOSED
    async with sessions() as session:
        events = await cases.events_of(session, one.case_id)
        assert [(e.from_status, e.to_status) for e in events] == [
            (None, "baru"), ("baru", "ditangani"), ("ditangani", "selesai"),
        ]  # fmt: skip
        case = await session.get(FieldCase, one.case_id)
        assert case is not None and case.assigned_to == KLOJEN_ADMIN.user_id
        assert case.closed_at == later and case.note == "Sudah dikirim PPS"
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.target == f"case:{one.case_id}")
            )
        ).all()
        assert list(actions) == ["case.baru", "case.ditangani", "case.selesai"]


async def test_posko_scope_and_waiting_cases(sessions: SessionFactory) -> None:
    gid = await group(sessions, -1001)
    async with sessions.begin() as session:
        waiting = await open_report(
            session, group_id=gid, reporter_id=71, category="cuaca", description="banjir",
            source="lapor", now=NOW,
        )  # fmt: skip
    assert waiting.posko_chat_id is None  # no posko yet: it waits, nothing dropped
    async with sessions.begin() as session:
        with pytest.raises(posko.PoskoRefused) as refused:
            await posko.set_posko(session, LOWOKWARU_OPERATOR, -5001, "Posko", NOW)
        assert refused.value.reason is posko.PoskoRefusal.NOT_ADMIN
        with pytest.raises(posko.PoskoRefused) as refused:
            await posko.set_posko(session, KLOJEN_ADMIN, -5001, "Posko", NOW, LOWOKWARU)
        assert refused.value.reason is posko.PoskoRefusal.OUT_OF_SCOPE
        city = await posko.set_posko(session, CITY_ADMIN, -5000, "Posko Kota", NOW)
        assert city.kecamatan_code is None and city.waiting == 1
    async with sessions.begin() as session:
        klojen = await posko.set_posko(session, KLOJEN_ADMIN, -5002, "Posko Klojen", NOW)
        # the waiting case of Klojen moves to Klojen's own posko, as it is not posted yet
        assert klojen.kecamatan_code == KLOJEN and klojen.waiting == 0
        assert await posko.posko_for(session, KLOJEN) == -5002
        assert await posko.posko_for(session, LOWOKWARU) == -5000
    async with sessions.begin() as session:
        second = await open_report(
            session, group_id=gid, reporter_id=71, category="keamanan", description="ribut",
            source="lapor", now=NOW,
        )  # fmt: skip
        assert second.posko_chat_id == -5002
        assert [c.id for c in await posko.unposted(session, -5000)] == [waiting.case_id]
        assert [c.id for c in await posko.unposted(session, -5002)] == [second.case_id]


async def test_a_reporter_erasing_their_data_removes_their_reports_not_the_case(
    sessions: SessionFactory,
) -> None:
    gid = await group(sessions, -1001)
    async with sessions.begin() as session:
        mine = await open_report(
            session, group_id=gid, reporter_id=71, category="hoaks", description="pesan berantai",
            source="lapor", now=NOW,
        )  # fmt: skip
        await open_report(
            session, group_id=gid, reporter_id=72, category="hoaks", description=None,
            source="lapor", now=NOW,
        )  # fmt: skip
    async with sessions.begin() as session:
        deleted = await erase_person(session, 71, NOW)
    assert deleted["field_reports"] == 1
    async with sessions() as session:
        left = await reports.reports_of(session, mine.case_id)
        assert [r.reporter_id for r in left] == [72]
        assert await session.get(FieldCase, mine.case_id) is not None
