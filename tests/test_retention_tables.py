"""Retention (issue 11) deletes every kind of personal data it lists, not only acknowledgements:
a resident's question log and a half-filled flow too, once the period is over, and keeps the
rows stored after the cut-off (the e2e test in tests/e2e/test_privacy.py covers the ack path)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from db.engine import SessionFactory
from db.models import FlowState, QuestionStatus, ResidentQuestion
from domain.privacy import purge_expired, retention_cutoff
from election.profile import ElectionProfile

RESIDENT = 4242


async def _count(sessions: SessionFactory, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_questions_and_flows_are_deleted_after_the_period(
    sessions: SessionFactory, profile: ElectionProfile
) -> None:
    cutoff = retention_cutoff(profile, 90)
    async with sessions.begin() as session:
        for kind, at in (
            ("siaran", cutoff - timedelta(days=100)),
            ("lapor", cutoff + timedelta(hours=1)),
        ):
            session.add(
                ResidentQuestion(
                    resident_id=RESIDENT,
                    chat_id=RESIDENT,
                    text="TPS saya di mana?",
                    status=QuestionStatus.OPEN,
                    asked_at=at,
                )
            )
            session.add(
                FlowState(
                    kind=kind,
                    chat_id=RESIDENT,
                    user_id=RESIDENT,
                    token=f"t{at.day:02d}",
                    step="k",
                    data={},
                    expires_at=at + timedelta(hours=1),
                    updated_at=at,
                )
            )
    async with sessions.begin() as session:
        assert await purge_expired(session, profile, 90, cutoff - timedelta(minutes=1)) == {}
    assert await _count(sessions, ResidentQuestion) == 2 and await _count(sessions, FlowState) == 2
    async with sessions.begin() as session:
        deleted = await purge_expired(session, profile, 90, cutoff + timedelta(hours=2))
    assert deleted["resident_questions"] == 1 and deleted["flow_states"] == 1
    assert await _count(sessions, ResidentQuestion) == 1 and await _count(sessions, FlowState) == 1
