"""Group registration in the domain: the typed form, every change audited, coverage counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from db.engine import SessionFactory
from db.models import AuditEntry, Group, GroupLevel
from domain import registered
from domain import subscriptions as subs
from domain.regions import read_regions
from domain.registration_form import MAX_TYPED, parse_registration
from domain.subscriptions import Registration

NOW = datetime(2024, 11, 20, 3, 0, tzinfo=UTC)
SUMBERSARI = "35.73.05.1005"
ORO_ORO_DOWO = "35.73.02.1008"
TLOGOMAS = "35.73.05.1003"
GROUP = -400000123
ADMIN = 700000001


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("rw 5 sumbersari", Registration(SUMBERSARI, 5)),
        ("RW 05 Sumbersari", Registration(SUMBERSARI, 5)),
        ("rw5 sumbersri", Registration(SUMBERSARI, 5)),  # a small typo
        ("rt 3 rw 5 kel. oro-oro dowo", Registration(ORO_ORO_DOWO, 5, 3)),
        ("rw 5 rt 3 Oro Oro Dowo", Registration(ORO_ORO_DOWO, 5, 3)),
        ("RT 03/05 Tlogomas", Registration(TLOGOMAS, 5, 3)),
        ("rt/rw 3/5 tlogomas", Registration(TLOGOMAS, 5, 3)),
        ("rw 2 kel. sumbersari kec. lowokwaru", Registration(SUMBERSARI, 2)),
        ("rw 2 kelurahan lowokwaru", Registration("35.73.05.1011", 2)),
    ],
)
def test_the_one_line_form(typed: str, expected: Registration) -> None:
    parsed = parse_registration(typed, read_regions())
    assert parsed.error is None
    assert parsed.registration == expected


def test_an_ambiguous_kelurahan_gives_candidates_to_choose_from() -> None:
    parsed = parse_registration("rw 2 mrjosari", read_regions())
    assert parsed.registration is None and parsed.rw == 2
    assert {m.name for m in parsed.candidates} == {"Merjosari", "Arjosari"}
    # Naming the kecamatan settles it.
    assert parse_registration("rw 2 mrjosari kec lowokwaru", read_regions()).registration == (
        Registration("35.73.05.1002", 2)
    )


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("rt 3 sumbersari", "RW belum disebut"),
        ("sumbersari", "RW belum disebut"),
        ("rw 0 dinoyo", "harus antara 1 dan 99"),
        ("rt 120 rw 1 dinoyo", "harus antara 1 dan 99"),
        ("rw 5", "kelurahan belum disebut"),
        ("rw 5 zzzzqq", "tidak ditemukan"),
        ("rw 5 <b>kampung & co", "“&lt;b&gt;kampung &amp; co” tidak ditemukan"),
    ],
)
def test_what_is_wrong_is_said(typed: str, says: str) -> None:
    parsed = parse_registration(typed, read_regions())
    assert parsed.registration is None and not parsed.candidates
    assert parsed.error is not None and says in parsed.error
    assert "/daftar rw 5 sumbersari" in parsed.error  # and how to write it instead


def test_a_very_long_typed_form_is_cut_before_it_is_read() -> None:
    # Only the first MAX_TYPED characters are read, so a pasted essay costs what a form costs:
    # what follows them changes nothing, not even a real kelurahan.
    regions = read_regions()
    essay = "rw 5 " + "kata " * 900
    parsed = parse_registration(essay, regions)
    assert parsed.error is not None and parsed.registration is None
    assert parse_registration(essay + " sumbersari", regions) == parsed
    assert parse_registration(essay[:MAX_TYPED], regions) == parsed
    assert MAX_TYPED <= 200


def test_registration_levels_and_labels() -> None:
    assert Registration(SUMBERSARI, 5).level is GroupLevel.RW
    assert Registration(SUMBERSARI, 5, 3).level is GroupLevel.RT
    assert Registration(SUMBERSARI, 5, 3).area == "RT 03 / RW 05"
    with pytest.raises(ValueError):
        Registration(SUMBERSARI, 0)


async def _audit(sessions: SessionFactory) -> list[tuple[str, int | None, dict[str, object]]]:
    async with sessions() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    return [(r.action, r.actor_id, json.loads(r.detail) if r.detail else {}) for r in rows]


async def _group(sessions: SessionFactory, chat_id: int = GROUP) -> Group:
    async with sessions() as session:
        group = await session.scalar(select(Group).where(Group.chat_id == chat_id))
    assert group is not None
    return group


async def test_join_subscribe_change_leave_return_keep(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        arrival = await subs.bot_joined(session, GROUP, "RW 05", "group", ADMIN, NOW)
    assert arrival.first_time and arrival.previous is None
    group = await _group(sessions)
    assert (group.active, group.subscribed, group.kelurahan_code) == (True, False, None)

    async with sessions.begin() as session:
        await subs.subscribe(session, GROUP, Registration(SUMBERSARI, 5), ADMIN, NOW)
    async with sessions.begin() as session:
        await subs.subscribe(session, GROUP, Registration(SUMBERSARI, 5, 3), ADMIN + 1, NOW)
    group = await _group(sessions)
    assert (group.level, group.rw, group.rt, group.subscribed_by) == (
        GroupLevel.RT,
        5,
        3,
        ADMIN + 1,
    )

    later = NOW + timedelta(hours=1)
    async with sessions.begin() as session:
        assert await subs.bot_left(session, GROUP, "kicked", ADMIN, later)
    group = await _group(sessions)
    assert (group.active, group.subscribed, group.rt) == (False, True, 3)  # history kept

    async with sessions.begin() as session:
        arrival = await subs.bot_joined(session, GROUP, "RW 05", "group", ADMIN, later)
    assert not arrival.first_time and arrival.previous == Registration(SUMBERSARI, 5, 3)
    group = await _group(sessions)
    assert (group.active, group.subscribed) == (True, False)  # waits for an admin to confirm

    async with sessions.begin() as session:
        kept = await subs.keep_registration(session, GROUP, ADMIN, later)
    assert kept == Registration(SUMBERSARI, 5, 3)
    async with sessions.begin() as session:
        assert await subs.unsubscribe(session, GROUP, ADMIN, later)
        assert not await subs.unsubscribe(session, GROUP, ADMIN, later)
    group = await _group(sessions)
    assert (group.subscribed, group.kelurahan_code) == (False, SUMBERSARI)

    audit = await _audit(sessions)
    assert [a[0] for a in audit] == [
        "group.join",
        "group.subscribe",
        "group.subscribe",
        "group.leave",
        "group.join",
        "group.subscribe",
        "group.unsubscribe",
    ]
    assert audit[2][1] == ADMIN + 1 and audit[2][2]["before"] == f"{SUMBERSARI} RW 05"
    assert audit[5][2]["kept"] is True


async def test_migration_keeps_one_row_and_is_audited_once(sessions: SessionFactory) -> None:
    new_id = -1002000000123
    async with sessions.begin() as session:
        await subs.subscribe(session, GROUP, Registration(SUMBERSARI, 5), ADMIN, NOW)
    # The supergroup is seen first (a command there), then both service messages arrive.
    async with sessions.begin() as session:
        await subs.known_group(session, new_id, "RW 05", "supergroup", NOW)
    for _ in range(2):
        async with sessions.begin() as session:
            await subs.migrate(session, GROUP, new_id, ADMIN, NOW)
    async with sessions() as session:
        rows = (await session.scalars(select(Group))).all()
    assert len(rows) == 1
    assert (rows[0].chat_id, rows[0].migrated_from_chat_id, rows[0].subscribed, rows[0].rw) == (
        new_id,
        GROUP,
        True,
        5,
    )
    assert [a[0] for a in await _audit(sessions)].count("group.migrate") == 1


async def test_coverage_counts_only_registered_active_groups(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        await subs.subscribe(session, -1, Registration(SUMBERSARI, 5), ADMIN, NOW, title="A")
        await subs.subscribe(session, -2, Registration(SUMBERSARI, 5, 1), ADMIN, NOW, title="B")
        await subs.subscribe(session, -3, Registration(SUMBERSARI, 5, 2), ADMIN, NOW, title="C")
        await subs.subscribe(session, -4, Registration(ORO_ORO_DOWO, 1), ADMIN, NOW, title="D")
        await subs.bot_left(session, -3, "kicked", ADMIN, NOW)
        await subs.known_group(session, -5, "never registered", "group", NOW)
    async with sessions() as session:
        city = await registered.group_counts(session)
        lowokwaru = await registered.group_counts(session, "35.73.05")
        listed = await registered.groups_in(session, SUMBERSARI)
        total = await session.scalar(select(func.count()).select_from(Group))
    assert len(city) == 57 and total == 5
    by_code = {c.where.code: c for c in city}
    assert (by_code[SUMBERSARI].rw_groups, by_code[SUMBERSARI].rt_groups) == (1, 1)
    assert by_code[ORO_ORO_DOWO].total == 1
    assert sum(c.total for c in city) == 3
    assert {c.where.kecamatan_code for c in lowokwaru} == {"35.73.05"} and len(lowokwaru) == 12
    assert [(g.title, g.active) for g in listed] == [("A", True), ("B", True), ("C", False)]
