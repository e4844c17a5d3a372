"""Who may send what: approval, neutrality and scope rules, on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.engine import SessionFactory
from db.models import AuditEntry, BroadcastStatus, OfficialRole
from domain.broadcasts import Draft, DraftRefused, approve, cancel, preview, submit
from domain.official_changes import add_official
from domain.officials import Actor, PermissionDenied, find_actor
from election.profile import ElectionProfile
from scheduler.clock import FixedClock
from tests.authority_fixtures import seed_official
from tests.conftest import ADMIN_ID
from tests.scheduler.fakes import add_groups

OPERATOR_ID, SECOND_ADMIN_ID, KLOJEN_OPERATOR_ID = 900002, 900003, 900004
BEFORE_MASA_TENANG = datetime(2024, 11, 22, 3, 0, tzinfo=UTC)


async def _officials(sessions: SessionFactory, now: datetime) -> dict[str, Actor]:
    async with sessions.begin() as session:
        admin = await find_actor(session, ADMIN_ID)
        assert admin is not None
        await add_official(session, admin, OPERATOR_ID, OfficialRole.OPERATOR, None, now)
        # an approver the way a city has one: added days ago, by another official
        await seed_official(session, SECOND_ADMIN_ID, OfficialRole.ADMIN, now)
        await add_official(
            session, admin, KLOJEN_OPERATOR_ID, OfficialRole.OPERATOR, "35.73.02", now
        )
    async with sessions() as session:
        actors = {
            name: await find_actor(session, uid)
            for name, uid in (
                ("admin", ADMIN_ID),
                ("operator", OPERATOR_ID),
                ("admin2", SECOND_ADMIN_ID),
                ("klojen", KLOJEN_OPERATOR_ID),
            )
        }
    return {k: v for k, v in actors.items() if v is not None}


async def test_admin_library_message_before_masa_tenang_goes_straight(
    sessions: SessionFactory, profile: ElectionProfile
) -> None:
    now = BEFORE_MASA_TENANG
    actors = await _officials(sessions, now)
    await add_groups(sessions, 7)
    draft = Draft(audience="all", scheduled_at=now, message_key="hoaks.saring")
    async with sessions.begin() as session:
        shown = await preview(session, actors["admin"], draft, profile, now)
        assert shown.recipients == 7 and not shown.needs_approval
        assert "<" in shown.html or shown.html
        broadcast = await submit(session, actors["admin"], draft, profile, now)
        assert broadcast.status is BroadcastStatus.SCHEDULED
        assert broadcast.approved_by == ADMIN_ID
        audit = (await session.scalars(select(AuditEntry))).all()
        assert any(a.action == "broadcast.create" for a in audit)


async def test_custom_text_needs_a_second_official(
    sessions: SessionFactory, profile: ElectionProfile
) -> None:
    now = BEFORE_MASA_TENANG
    actors = await _officials(sessions, now)
    draft = Draft(audience="all", scheduled_at=now, text="Kerja bakti Minggu pagi di balai RW.")
    async with sessions.begin() as session:
        broadcast = await submit(session, actors["admin"], draft, profile, now)
        assert broadcast.status is BroadcastStatus.AWAITING_APPROVAL
        with pytest.raises(PermissionDenied, match="bukan pembuatnya"):
            await approve(session, actors["admin"], broadcast.id, now)
        with pytest.raises(PermissionDenied, match="Hanya admin"):
            await approve(session, actors["operator"], broadcast.id, now)
        approved = await approve(session, actors["admin2"], broadcast.id, now)
        assert approved.status is BroadcastStatus.SCHEDULED
        assert approved.approved_by == SECOND_ADMIN_ID


async def test_masa_tenang_needs_approval_even_for_library(
    sessions: SessionFactory, profile: ElectionProfile, clock: FixedClock
) -> None:
    now = clock.now()  # 25 Nov: masa tenang
    actors = await _officials(sessions, now)
    draft = Draft(audience="all", scheduled_at=now, message_key="hoaks.saring")
    async with sessions.begin() as session:
        broadcast = await submit(session, actors["admin"], draft, profile, now)
    assert broadcast.status is BroadcastStatus.AWAITING_APPROVAL
    assert "masa tenang" in (broadcast.status_reason or "")


async def test_operator_only_drafts(sessions: SessionFactory, profile: ElectionProfile) -> None:
    now = BEFORE_MASA_TENANG
    actors = await _officials(sessions, now)
    draft = Draft(audience="all", scheduled_at=now, message_key="hoaks.saring")
    async with sessions.begin() as session:
        broadcast = await submit(session, actors["operator"], draft, profile, now)
    assert broadcast.status is BroadcastStatus.AWAITING_APPROVAL


@pytest.mark.parametrize(
    "text",
    [
        "Ayo coblos nomor 2 besok!",
        "Dukung Khofifah-Emil untuk Jatim",
        "Salam dari PDI Perjuangan",
        "Malang Berkelas bersama kita",
    ],
)
async def test_partisan_custom_text_is_refused_with_reason(
    sessions: SessionFactory, profile: ElectionProfile, text: str
) -> None:
    now = BEFORE_MASA_TENANG
    actors = await _officials(sessions, now)
    async with sessions.begin() as session:
        with pytest.raises(DraftRefused, match="tidak netral"):
            await submit(session, actors["admin"], Draft("all", now, text=text), profile, now)


async def test_neutral_numbers_pass(sessions: SessionFactory, profile: ElectionProfile) -> None:
    now = BEFORE_MASA_TENANG
    actors = await _officials(sessions, now)
    text = "Warga RT 3 RW 5 memilih di TPS 12, buka pukul 07.00 WIB."
    async with sessions.begin() as session:
        shown = await preview(session, actors["admin"], Draft("all", now, text=text), profile, now)
    assert shown.html == text


async def test_kecamatan_operator_is_kept_to_their_kecamatan(
    sessions: SessionFactory, profile: ElectionProfile
) -> None:
    now = BEFORE_MASA_TENANG
    actors = await _officials(sessions, now)
    async with sessions.begin() as session:
        with pytest.raises(PermissionDenied, match="wilayah Anda"):
            await preview(
                session,
                actors["klojen"],
                Draft("all", now, message_key="hoaks.saring"),
                profile,
                now,
            )
        shown = await preview(
            session,
            actors["klojen"],
            Draft("kecamatan:35.73.02", now, message_key="hoaks.saring"),
            profile,
            now,
        )
        assert "Klojen" in shown.audience_label


async def test_cancel_pending(sessions: SessionFactory, profile: ElectionProfile) -> None:
    now = BEFORE_MASA_TENANG
    actors = await _officials(sessions, now)
    later = now + timedelta(hours=3)
    async with sessions.begin() as session:
        broadcast = await submit(
            session,
            actors["admin"],
            Draft("all", later, message_key="hoaks.saring"),
            profile,
            now,
        )
        with pytest.raises(PermissionDenied):
            await cancel(session, actors["operator"], broadcast.id, now)
        cancelled = await cancel(session, actors["admin2"], broadcast.id, now)
        assert cancelled.status is BroadcastStatus.CANCELLED
        with pytest.raises(DraftRefused, match="sudah"):
            await cancel(session, actors["admin"], broadcast.id, now)
        with pytest.raises(DraftRefused, match="tidak ditemukan"):
            await cancel(session, actors["admin"], 999, now)
