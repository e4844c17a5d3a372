"""Who hears of a forwarded question and how often, without Telegram (the e2e test in
tests/e2e/test_questions.py sends the notices)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db.engine import SessionFactory
from db.models import Official, OfficialRole
from domain import questions
from domain.inbox_notices import NoticeThrottle, in_scope, officials_for, untold

NOW = datetime(2024, 11, 25, 3, 0, tzinfo=UTC)
ORO_ORO_DOWO, SUMBERSARI = "35.73.02.1008", "35.73.05.1005"
ROOT = 900001  # ADMIN_IDS in tests/conftest.py: the whole city
CITY, KLOJEN, LOWOKWARU = 910001, 910002, 910003
LURAH_OOD, LURAH_SB = 910004, 910005


@pytest.mark.parametrize(
    ("scope", "kelurahan", "expected"),
    [
        (None, ORO_ORO_DOWO, True),
        (None, None, True),  # no place given: the whole city's officials
        ("35.73.02", ORO_ORO_DOWO, True),
        ("35.73.02", SUMBERSARI, False),
        ("35.73.02", None, False),
        (ORO_ORO_DOWO, ORO_ORO_DOWO, True),  # an official of one kelurahan
        ("35.73.0", "35.73.02.1008", False),  # a prefix of digits is not a region
    ],
)
def test_scope(scope: str | None, kelurahan: str | None, expected: bool) -> None:
    assert in_scope(scope, kelurahan) is expected


async def _forwarded(sessions: SessionFactory, resident: int, kelurahan: str | None) -> int:
    async with sessions.begin() as session:
        draft = await questions.keep_draft(session, resident, resident, "ada tenda?", NOW)
        assert isinstance(draft, int)
        result = await questions.forward(session, draft, resident, NOW, kelurahan_code=kelurahan)
        assert isinstance(result, questions.Forwarded)
        return result.question_id


async def test_the_officials_a_question_concerns_and_what_they_were_not_told(
    sessions: SessionFactory,
) -> None:
    async with sessions.begin() as session:
        for user_id, scope in ((CITY, None), (KLOJEN, "35.73.02"), (LOWOKWARU, "35.73.05")):
            role = OfficialRole.ADMIN if scope is None else OfficialRole.OPERATOR
            session.add(Official(user_id=user_id, role=role, kecamatan_code=scope, added_at=NOW))
    first = await _forwarded(sessions, 700001, ORO_ORO_DOWO)
    nowhere = await _forwarded(sessions, 700002, None)
    second = await _forwarded(sessions, 700003, ORO_ORO_DOWO)
    async with sessions() as session:
        assert await officials_for(session, first) == [ROOT, CITY, KLOJEN]
        assert await officials_for(session, nowhere) == [ROOT, CITY]
        assert await untold(session, CITY, 0) == (3, second)
        assert await untold(session, KLOJEN, 0) == (2, second)
        assert await untold(session, KLOJEN, first) == (1, second)
        assert await untold(session, LOWOKWARU, 0) == (0, 0)
    async with sessions.begin() as session:
        await questions.answer(session, second, CITY, "Ada.", NOW, scope=None)
    async with sessions() as session:  # answered meanwhile: nothing left to tell
        assert await untold(session, KLOJEN, first) == (0, first)


def test_the_throttle_lets_one_notice_through_per_interval() -> None:
    throttle = NoticeThrottle(timedelta(minutes=15))
    assert throttle.wait(CITY, NOW) == timedelta(0) and throttle.last_question(CITY) == 0
    throttle.told(CITY, 7, NOW)
    assert throttle.wait(CITY, NOW + timedelta(minutes=5)) == timedelta(minutes=10)
    assert throttle.wait(CITY, NOW + timedelta(minutes=15)) == timedelta(0)
    assert throttle.wait(KLOJEN, NOW) == timedelta(0)  # each official on their own
    assert throttle.last_question(CITY) == 7


def test_questions_within_the_interval_wait_and_are_due_at_its_end() -> None:
    throttle = NoticeThrottle(timedelta(minutes=15))
    assert throttle.arrived(CITY, NOW)  # the first: at once
    throttle.told(CITY, 1, NOW)
    later = NOW + timedelta(minutes=4)
    assert not throttle.arrived(CITY, later) and not throttle.arrived(CITY, later)
    assert throttle.next_due(later) == NOW + timedelta(minutes=15)
    assert throttle.due(NOW + timedelta(minutes=14)) == []
    assert throttle.due(NOW + timedelta(minutes=15)) == [CITY]
    assert throttle.next_due(NOW + timedelta(minutes=15)) is None  # told once, not twice


async def test_a_lurahs_staff_hear_only_of_their_kelurahan(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        for user_id, kelurahan in ((LURAH_OOD, ORO_ORO_DOWO), (LURAH_SB, SUMBERSARI)):
            session.add(
                Official(
                    user_id=user_id,
                    role=OfficialRole.OPERATOR,
                    kecamatan_code=kelurahan.rsplit(".", 1)[0],
                    kelurahan_code=kelurahan,
                    added_at=NOW,
                )
            )
    question = await _forwarded(sessions, 700011, ORO_ORO_DOWO)
    async with sessions() as session:
        assert await officials_for(session, question) == [ROOT, LURAH_OOD]
        assert await untold(session, LURAH_OOD, 0) == (1, question)
        assert await untold(session, LURAH_SB, 0) == (0, 0)
