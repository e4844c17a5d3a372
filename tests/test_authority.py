"""Authority with no single point of abuse (issue 10), on a real SQLite file.

Root admins from ADMIN_IDS survive everything; officials act only below them and in their
scope; approvers need a second admin; one person with two accounts cannot get a custom
broadcast approved; removal, the paged listing and the audit query are scoped."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import open_storage
from db.engine import SessionFactory
from db.models import (
    AuditEntry,
    Base,
    BroadcastStatus,
    Official,
    OfficialRequest,
    OfficialRole,
    RequestStatus,
)
from domain.audit import audit_csv, audit_entries
from domain.broadcasts import Draft, approval_screen, approve, submit
from domain.official_changes import (
    ApprovalRequired,
    add_official,
    approve_request,
    pending_requests,
    reject_request,
    remove_official,
)
from domain.officials import (
    Actor,
    PermissionDenied,
    find_actor,
    list_officials_page,
    outranks,
    scope_contains,
)
from election.profile import ElectionProfile
from scheduler.clock import FixedClock
from tests.authority_fixtures import seed_official
from tests.conftest import ADMIN_ID

ADMIN = OfficialRole.ADMIN
OPERATOR = OfficialRole.OPERATOR
CITY_A, CITY_B, CITY_C = 920001, 920002, 920003  # city-wide admins, added days ago
KLOJEN_ADMIN, LOWOKWARU_OP, KLOJEN_OP = 920011, 920012, 920013
KLOJEN, LOWOKWARU = "35.73.02", "35.73.05"
NEW = 920100
DAY = timedelta(days=1)


async def _city(sessions: SessionFactory, now: datetime) -> dict[str, Actor]:
    async with sessions.begin() as session:
        await seed_official(session, CITY_A, ADMIN, now)
        await seed_official(session, CITY_B, ADMIN, now)
        await seed_official(session, CITY_C, ADMIN, now)
        await seed_official(session, KLOJEN_ADMIN, ADMIN, now, kecamatan_code=KLOJEN)
        await seed_official(session, LOWOKWARU_OP, OPERATOR, now, kecamatan_code=LOWOKWARU)
        await seed_official(session, KLOJEN_OP, OPERATOR, now, kecamatan_code=KLOJEN)
    return await _actors(sessions)


async def _actors(sessions: SessionFactory) -> dict[str, Actor]:
    names = {
        "root": ADMIN_ID,
        "a": CITY_A,
        "b": CITY_B,
        "c": CITY_C,
        "klojen": KLOJEN_ADMIN,
        "lowokwaru_op": LOWOKWARU_OP,
        "klojen_op": KLOJEN_OP,
        "new": NEW,
    }
    async with sessions() as session:
        found = {k: await find_actor(session, v) for k, v in names.items()}
    return {k: v for k, v in found.items() if v is not None}


async def _refused(sessions: SessionFactory, key: str, call) -> PermissionDenied:  # type: ignore[no-untyped-def]
    async with sessions.begin() as session:
        with pytest.raises(PermissionDenied) as caught:
            await call(session)
    assert caught.value.key == key, str(caught.value)
    assert str(caught.value) and "Error" not in str(caught.value)
    return caught.value


def test_scopes_nest_and_ranks_order() -> None:
    assert scope_contains(None, KLOJEN) and scope_contains(KLOJEN, KLOJEN)
    assert scope_contains(KLOJEN, "35.73.02.1008")  # a kelurahan level fits without changes
    assert not scope_contains(KLOJEN, None) and not scope_contains(KLOJEN, "35.73.021")
    city = Actor(1, ADMIN, None)
    klojen = Actor(2, ADMIN, KLOJEN)
    assert outranks(city, ADMIN, KLOJEN) and not outranks(city, ADMIN, None)
    assert outranks(klojen, OPERATOR, KLOJEN) and not outranks(klojen, ADMIN, KLOJEN)
    assert outranks(klojen, ADMIN, "35.73.02.1008")
    assert not outranks(Actor(3, ADMIN, None, root=True), ADMIN, None, target_root=True)


# --- root admins ---------------------------------------------------------------------------------


async def test_a_demoted_root_is_restored_at_start(db_url: str, clock: FixedClock) -> None:
    now = clock.now()
    engine, sessions = await open_storage(db_url, frozenset({ADMIN_ID}), now)
    async with sessions.begin() as session:
        root = await session.get(Official, ADMIN_ID)
        assert root is not None and root.root and root.role is ADMIN
        # what a raw SQL edit, or a bug, could do
        root.role, root.kecamatan_code, root.active = OPERATOR, KLOJEN, False
    await engine.dispose()
    engine, sessions = await open_storage(db_url, frozenset({ADMIN_ID}), now + DAY)
    async with sessions() as session:
        root = await session.get(Official, ADMIN_ID)
        assert root is not None
        assert (root.root, root.role, root.kecamatan_code, root.active) == (True, ADMIN, None, True)
        actions = (await session.scalars(select(AuditEntry.action))).all()
        assert "official.root_restore" in actions
    await engine.dispose()
    # dropped from ADMIN_IDS: no longer protected, still an admin
    engine, sessions = await open_storage(db_url, frozenset({CITY_A}), now + 2 * DAY)
    async with sessions() as session:
        old = await session.get(Official, ADMIN_ID)
        new = await session.get(Official, CITY_A)
        assert old is not None and not old.root and old.role is ADMIN
        assert new is not None and new.root
    await engine.dispose()


async def test_nobody_touches_a_root_admin(sessions: SessionFactory, clock: FixedClock) -> None:
    now = clock.now()
    actors = await _city(sessions, now)
    for who in ("klojen", "a"):
        for role, scope in ((OPERATOR, LOWOKWARU), (ADMIN, KLOJEN), (ADMIN, None)):
            await _refused(
                sessions,
                "otoritas.petugas.admin_utama",
                lambda s, who=who, role=role, scope=scope: add_official(
                    s, actors[who], ADMIN_ID, role, scope, now
                ),
            )
        await _refused(
            sessions,
            "otoritas.petugas.admin_utama",
            lambda s, who=who: remove_official(s, actors[who], ADMIN_ID, now),
        )
    async with sessions() as session:
        root = await session.get(Official, ADMIN_ID)
        assert root is not None and root.role is ADMIN and root.kecamatan_code is None


# --- below and inside ----------------------------------------------------------------------------


async def test_a_scoped_admin_acts_only_below_and_inside(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    actors = await _city(sessions, now)
    klojen = actors["klojen"]
    # the attack: move a city-wide admin into one's own kecamatan
    await _refused(
        sessions,
        "otoritas.petugas.di_luar_wilayah",
        lambda s: add_official(s, klojen, CITY_A, ADMIN, KLOJEN, now),
    )
    await _refused(
        sessions,
        "otoritas.petugas.di_luar_wilayah",
        lambda s: add_official(s, klojen, LOWOKWARU_OP, OPERATOR, KLOJEN, now),
    )
    await _refused(
        sessions,
        "otoritas.petugas.wilayah_di_luar",
        lambda s: add_official(s, klojen, NEW, OPERATOR, LOWOKWARU, now),
    )
    await _refused(
        sessions,
        "otoritas.petugas.wilayah_di_luar",
        lambda s: add_official(s, klojen, NEW, OPERATOR, None, now),
    )
    await _refused(  # a peer, not below
        sessions,
        "otoritas.petugas.tidak_di_bawah",
        lambda s: add_official(s, klojen, NEW, ADMIN, KLOJEN, now),
    )
    await _refused(
        sessions,
        "otoritas.petugas.diri_sendiri",
        lambda s: add_official(s, klojen, KLOJEN_ADMIN, OPERATOR, KLOJEN, now),
    )
    await _refused(
        sessions,
        "otoritas.petugas.bukan_admin",
        lambda s: add_official(s, actors["klojen_op"], NEW, OPERATOR, KLOJEN, now),
    )
    await _refused(
        sessions,
        "otoritas.petugas.wilayah_tidak_dikenal",
        lambda s: add_official(s, actors["a"], NEW, OPERATOR, "35.73.99", now),
    )
    # a city-wide admin is not above another city-wide admin
    await _refused(
        sessions,
        "otoritas.petugas.tidak_di_bawah",
        lambda s: add_official(s, actors["a"], CITY_B, OPERATOR, None, now),
    )
    # what they may do: an operator in their own kecamatan, at once
    async with sessions.begin() as session:
        official = await add_official(session, klojen, NEW, OPERATOR, KLOJEN, now)
        assert official.role is OPERATOR and official.kecamatan_code == KLOJEN


# --- a second admin for every new approver ----------------------------------------------------


async def test_adding_an_admin_needs_a_second_admin(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    actors = await _city(sessions, now)
    await _refused(  # only a root admin is above a city-wide admin
        sessions,
        "otoritas.petugas.tidak_di_bawah",
        lambda s: add_official(s, actors["a"], NEW, ADMIN, None, now),
    )
    async with sessions.begin() as session:
        with pytest.raises(ApprovalRequired) as caught:
            await add_official(session, actors["root"], NEW, ADMIN, None, now)
    request_id = caught.value.request_id
    assert f"#{request_id}" in str(caught.value) and "admin kedua" in str(caught.value)
    async with sessions() as session:
        assert await find_actor(session, NEW) is None  # nothing granted yet
        assert [r.id for r in await pending_requests(session, actors["b"], now)] == [request_id]
    await _refused(
        sessions,
        "otoritas.petugas.permintaan_sendiri",
        lambda s: approve_request(s, actors["root"], request_id, now),
    )
    await _refused(  # a kecamatan admin cannot make a city-wide admin
        sessions,
        "otoritas.petugas.wilayah_di_luar",
        lambda s: approve_request(s, actors["klojen"], request_id, now),
    )
    async with sessions.begin() as session:
        official = await approve_request(session, actors["b"], request_id, now + timedelta(hours=1))
        assert official.role is ADMIN and official.approver_proposed_by == ADMIN_ID
        request = await session.get(OfficialRequest, request_id)
        assert request is not None and request.status is RequestStatus.APPROVED
        assert request.decided_by == CITY_B
    await _refused(
        sessions,
        "otoritas.petugas.permintaan_tidak_ada",
        lambda s: approve_request(s, actors["c"], request_id, now),
    )


async def test_a_request_can_be_rejected_and_lapses(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    actors = await _city(sessions, now)
    ids = []
    for user in (NEW, NEW + 1):
        async with sessions.begin() as session:
            with pytest.raises(ApprovalRequired) as caught:
                await add_official(session, actors["a"], user, ADMIN, KLOJEN, now)
        ids.append(caught.value.request_id)
    async with sessions.begin() as session:
        rejected = await reject_request(session, actors["b"], ids[0], now)
        assert rejected.status is RequestStatus.REJECTED
    await _refused(
        sessions,
        "otoritas.petugas.permintaan_kedaluwarsa",
        lambda s: approve_request(s, actors["b"], ids[1], now + 4 * DAY),
    )


async def test_a_fresh_admin_cannot_approve_new_admins(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    actors = await _city(sessions, now)
    async with sessions.begin() as session:
        await seed_official(session, NEW, ADMIN, now, age=timedelta(hours=2))
        with pytest.raises(ApprovalRequired) as caught:
            await add_official(session, actors["a"], NEW + 1, ADMIN, KLOJEN, now)
    fresh = (await _actors(sessions))["new"]
    await _refused(
        sessions,
        "otoritas.siaran.penyetuju_baru",
        lambda s: approve_request(s, fresh, caught.value.request_id, now),
    )


async def test_a_lone_root_admin_adds_the_first_admin_directly(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        root = await find_actor(session, ADMIN_ID)
        assert root is not None and root.root
        official = await add_official(session, root, NEW, ADMIN, None, now)
        assert official.role is ADMIN and official.approver_proposed_by == ADMIN_ID
        actions = (await session.scalars(select(AuditEntry.action))).all()
        assert "official.request_auto" in actions
    # an admin the root proposed never confirms the root's own requests (nor approves their
    # broadcasts); once an admin someone else added exists, the root needs them
    async with sessions.begin() as session:
        root = await find_actor(session, ADMIN_ID)
        assert root is not None
        await add_official(session, root, NEW + 1, ADMIN, None, now + 2 * DAY)
        await seed_official(session, CITY_A, ADMIN, now)
        with pytest.raises(ApprovalRequired):
            await add_official(session, root, NEW + 2, ADMIN, None, now + 2 * DAY)


# --- one person, two accounts --------------------------------------------------------------------


def _custom(now: datetime, kecamatan: str | None = None) -> Draft:
    audience = f"kecamatan:{kecamatan}" if kecamatan else "all"
    return Draft(audience=audience, scheduled_at=now + 5 * DAY, text="Kerja bakti Minggu pagi.")


async def test_one_person_with_two_accounts_cannot_get_a_custom_broadcast_approved(
    sessions: SessionFactory, clock: FixedClock, profile: ElectionProfile
) -> None:
    now = clock.now()
    actors = await _city(sessions, now)
    # A proposes their second account; B, in good faith, approves it
    async with sessions.begin() as session:
        with pytest.raises(ApprovalRequired) as caught:
            await add_official(session, actors["a"], NEW, ADMIN, KLOJEN, now)
        await approve_request(session, actors["b"], caught.value.request_id, now)
    second = (await _actors(sessions))["new"]
    later = now + 3 * DAY  # long past the 24 hours
    async with sessions.begin() as session:
        broadcast = await submit(session, actors["a"], _custom(later, KLOJEN), profile, later)
        broadcast_id = broadcast.id
    await _refused(
        sessions,
        "otoritas.siaran.penyetuju_ditambah_pembuat",
        lambda s: approve(s, second, broadcast_id, later, profile=profile),
    )
    async with sessions.begin() as session:
        screen = await approval_screen(session, second, broadcast_id, profile, later)
        assert screen.refusal and "pembuat siaran" in screen.refusal
        assert screen.html == "Kerja bakti Minggu pagi." and "pemeriksa kedua" in screen.note
        approved = await approve(session, actors["c"], broadcast_id, later, profile=profile)
        assert approved.status is BroadcastStatus.SCHEDULED and approved.approved_by == CITY_C


async def test_an_approver_added_by_the_creator_cannot_approve_their_custom_text(
    sessions: SessionFactory, clock: FixedClock, profile: ElectionProfile
) -> None:
    now = clock.now()
    actors = await _city(sessions, now)
    async with sessions.begin() as session:
        # A adds an operator; later B proposes them as admin and C approves
        await add_official(session, actors["a"], NEW, OPERATOR, KLOJEN, now)
        with pytest.raises(ApprovalRequired) as caught:
            await add_official(session, actors["b"], NEW, ADMIN, KLOJEN, now)
        await approve_request(session, actors["c"], caught.value.request_id, now)
    promoted = (await _actors(sessions))["new"]
    later = now + 2 * DAY
    async with sessions.begin() as session:
        custom = await submit(session, actors["a"], _custom(later, KLOJEN), profile, later)
        library = await submit(  # masa tenang: needs approval too, but no custom text
            session,
            actors["a"],
            Draft(f"kecamatan:{KLOJEN}", now, message_key="hoaks.saring", expires_at=later + DAY),
            profile,
            now - DAY,
        )
        custom_id, library_id = custom.id, library.id
        assert library.status is BroadcastStatus.AWAITING_APPROVAL
    await _refused(
        sessions,
        "otoritas.siaran.penyetuju_ditambah_pembuat",
        lambda s: approve(s, promoted, custom_id, later, profile=profile),
    )
    await _refused(  # created before they became an approver
        sessions,
        "otoritas.siaran.dibuat_sebelum_penyetuju",
        lambda s: approve(s, promoted, library_id, later, profile=profile),
    )


async def test_a_fresh_approver_waits_the_profiles_hours(
    sessions: SessionFactory, clock: FixedClock, profile: ElectionProfile
) -> None:
    now = clock.now()
    actors = await _city(sessions, now)
    async with sessions.begin() as session:
        with pytest.raises(ApprovalRequired) as caught:
            await add_official(session, actors["a"], NEW, ADMIN, KLOJEN, now)
        await approve_request(session, actors["b"], caught.value.request_id, now)
    fresh = (await _actors(sessions))["new"]
    soon = now + timedelta(hours=2)
    async with sessions.begin() as session:
        broadcast = await submit(session, actors["c"], _custom(soon, KLOJEN), profile, soon)
        broadcast_id = broadcast.id
    assert profile.neutrality.approver_min_age_hours == 24
    error = await _refused(
        sessions,
        "otoritas.siaran.penyetuju_baru",
        lambda s: approve(s, fresh, broadcast_id, soon, profile=profile),
    )
    assert "24 jam" in str(error)
    async with sessions.begin() as session:
        approved = await approve(session, fresh, broadcast_id, now + 25 * timedelta(hours=1))
        assert approved.approved_by == NEW


# --- removal -------------------------------------------------------------------------------------


async def test_removal_follows_the_same_rules(sessions: SessionFactory, clock: FixedClock) -> None:
    now = clock.now()
    actors = await _city(sessions, now)
    await _refused(
        sessions,
        "otoritas.petugas.di_luar_wilayah",
        lambda s: remove_official(s, actors["klojen"], LOWOKWARU_OP, now),
    )
    await _refused(
        sessions,
        "otoritas.petugas.di_luar_wilayah",
        lambda s: remove_official(s, actors["klojen"], CITY_A, now),
    )
    await _refused(
        sessions,
        "otoritas.petugas.diri_sendiri",
        lambda s: remove_official(s, actors["a"], CITY_A, now),
    )
    await _refused(
        sessions,
        "otoritas.petugas.tidak_ditemukan",
        lambda s: remove_official(s, actors["a"], 123, now),
    )
    async with sessions.begin() as session:
        removed = await remove_official(session, actors["klojen"], KLOJEN_OP, now)
        assert not removed.active
        with pytest.raises(ApprovalRequired) as caught:
            await remove_official(session, actors["a"], KLOJEN_ADMIN, now)
        assert (await find_actor(session, KLOJEN_ADMIN)) is not None
        await approve_request(session, actors["b"], caught.value.request_id, now)
        assert (await find_actor(session, KLOJEN_ADMIN)) is None
    # a removed admin's old Actor carries no authority
    await _refused(
        sessions,
        "otoritas.petugas.tidak_ditemukan",
        lambda s: add_official(s, actors["klojen"], NEW, OPERATOR, KLOJEN, now),
    )


# --- listing and audit ---------------------------------------------------------------------------


async def test_the_list_of_officials_is_paged_and_scoped(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    actors = await _city(sessions, now)
    async with sessions.begin() as session:
        for k in range(130):  # the issue: /petugas said nothing past ~120 officials
            scope = KLOJEN if k % 2 else LOWOKWARU
            await add_official(session, actors["a"], 930000 + k, OPERATOR, scope, now)
    async with sessions() as session:
        first = await list_officials_page(session, actors["a"], 1, per_page=20)
        assert first.total == 137 and first.pages == 7 and len(first.rows) == 20
        assert first.rows[0].user_id == ADMIN_ID  # root admins first
        last = await list_officials_page(session, actors["a"], 99, per_page=20)
        assert last.page == 7 and len(last.rows) == 17
        seen = {o.user_id for p in range(1, 8) for o in (
            await list_officials_page(session, actors["a"], p, per_page=20)
        ).rows}  # fmt: skip
        assert len(seen) == 137
        klojen = await list_officials_page(session, actors["klojen"], 1, per_page=200)
        assert {o.kecamatan_code for o in klojen.rows} == {KLOJEN}
        assert klojen.total == 65 + 2  # 65 new operators, the Klojen operator, themselves


async def test_audit_is_for_admins_and_scoped(
    sessions: SessionFactory, clock: FixedClock, profile: ElectionProfile
) -> None:
    now = clock.now()
    actors = await _city(sessions, now)
    async with sessions.begin() as session:
        await add_official(session, actors["a"], NEW, OPERATOR, LOWOKWARU, now)
        await add_official(session, actors["klojen"], NEW + 1, OPERATOR, KLOJEN, now)
        city = await submit(session, actors["a"], _custom(now), profile, now)
        kec = await submit(
            session,
            actors["klojen"],
            Draft(f"kecamatan:{KLOJEN}", now + 5 * DAY, text='=HYPERLINK("x") rapat RW'),
            profile,
            now,
        )
        city_id, kec_id = city.id, kec.id
    async with sessions() as session:
        everything = await audit_entries(session, actors["a"])
        targets = {r.target for r in everything}
        assert {f"user:{NEW}", f"user:{NEW + 1}", f"broadcast:{city_id}"} <= targets
        scoped = await audit_entries(session, actors["klojen"])
        assert {r.target for r in scoped} == {f"user:{NEW + 1}", f"broadcast:{kec_id}"}
        by_official = await audit_entries(session, actors["a"], official_id=KLOJEN_ADMIN)
        assert {r.actor_id for r in by_official} == {KLOJEN_ADMIN}
        by_broadcast = await audit_entries(session, actors["a"], broadcast_id=city_id)
        assert [r.action for r in by_broadcast] == ["broadcast.create"]
        page = await audit_entries(session, actors["a"], limit=2)
        more = await audit_entries(session, actors["a"], limit=2, before_id=page[-1].id)
        assert len(page) == 2 and more and more[0].id < page[-1].id
        with pytest.raises(PermissionDenied) as caught:
            await audit_entries(session, actors["klojen_op"])
        assert caught.value.key == "otoritas.audit.hanya_admin"
    table = list(csv.reader(io.StringIO(audit_csv(everything, profile.tz))))
    assert table[0] == ["id", "waktu", "petugas", "tindakan", "sasaran", "rincian"]
    assert len(table) == len(everything) + 1
    assert all(row[1].endswith("+07:00") for row in table[1:])


def test_audit_csv_never_holds_a_formula() -> None:
    from domain.audit import AuditRow

    row = AuditRow(1, datetime(2024, 11, 25, 1, 0).astimezone(), 5, "x", "y", "=cmd()")
    assert list(csv.reader(io.StringIO(audit_csv([row]))))[1][5] == "'=cmd()"


async def test_models_and_migrations_agree(storage: tuple[AsyncEngine, SessionFactory]) -> None:
    engine, _ = storage

    def diff(connection):  # type: ignore[no-untyped-def]
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []
