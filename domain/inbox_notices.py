"""Telling officials that residents' questions wait in their inbox, without flooding them.

A question forwarded from a kelurahan concerns the city-wide officials and those whose scope
holds that kelurahan (its kecamatan, or the kelurahan itself); one without a place, the
city-wide ones (``domain.questions.in_scope``, the same rule as ``/pertanyaan``). Each
official gets at most one notice per ``NOTICE_INTERVAL``: the first question is told at once,
later ones wait (the official is *pending*) for the interval's end and are told together, as a
count of the questions still open that the official has not been told of.

The questions are counted from the database; only *when* each official was last told, and of
which question, is kept here, in memory, like the residents' flood buckets: after a restart
an official may get one notice early, and questions are never lost (``/pertanyaan`` lists
them). Pure domain: no Telegram.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Official, QuestionStatus, ResidentQuestion
from domain.officials import scope_of
from domain.questions import in_scope, scope_clause

NOTICE_INTERVAL = timedelta(minutes=15)


async def officials_for(session: AsyncSession, question_id: int) -> list[int]:
    """The active officials a forwarded question concerns, by user id."""
    question = await session.get(ResidentQuestion, question_id)
    if question is None:
        return []
    officials = await session.scalars(
        select(Official).where(Official.active.is_(True)).order_by(Official.user_id)
    )
    return [o.user_id for o in officials if in_scope(scope_of(o), question.kelurahan_code)]


async def untold(session: AsyncSession, official_id: int, after_question: int) -> tuple[int, int]:
    """(how many, the newest id) of the open questions in this official's scope that came
    after ``after_question``; (0, after_question) when there are none or the official is gone."""
    official = await session.get(Official, official_id)
    if official is None or not official.active:
        return 0, after_question
    query = select(func.count(), func.max(ResidentQuestion.id)).where(
        ResidentQuestion.status == QuestionStatus.OPEN,
        ResidentQuestion.id > after_question,
    )
    query = query.where(scope_clause(scope_of(official)))
    count, newest = (await session.execute(query)).one()
    return int(count or 0), int(newest or after_question)


@dataclass
class _Told:
    at: datetime
    question: int  # the newest question this official was told of


class NoticeThrottle:
    """Per official: when they were last told, and of which question."""

    def __init__(self, interval: timedelta = NOTICE_INTERVAL) -> None:
        self.interval = interval
        self._told: dict[int, _Told] = {}
        self._pending: set[int] = set()
        self.lock = asyncio.Lock()  # held while an official's count is read and recorded

    def wait(self, official_id: int, now: datetime) -> timedelta:
        """How long until this official may be told again (zero: now)."""
        told = self._told.get(official_id)
        if told is None:
            return timedelta(0)
        return max(timedelta(0), told.at + self.interval - now)

    def last_question(self, official_id: int) -> int:
        """The newest question the official was told of (0: none since the start)."""
        told = self._told.get(official_id)
        return told.question if told is not None else 0

    def told(self, official_id: int, question_id: int, now: datetime) -> None:
        self._told[official_id] = _Told(now, question_id)

    def arrived(self, official_id: int, now: datetime) -> bool:
        """A question for this official: True to tell them now; False, it waits (pending)."""
        if self.wait(official_id, now):
            self._pending.add(official_id)
            return False
        self._pending.discard(official_id)
        return True

    def due(self, now: datetime) -> list[int]:
        """The pending officials whose interval is over (no longer pending once returned)."""
        ready = sorted(o for o in self._pending if not self.wait(o, now))
        self._pending.difference_update(ready)
        return ready

    def next_due(self, now: datetime) -> datetime | None:
        """When the first pending official may be told (None: nobody waits)."""
        if not self._pending:
            return None
        return now + min(self.wait(o, now) for o in self._pending)
