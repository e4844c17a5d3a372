"""The officials' inbox: residents' questions the bot could not answer, and officials' answers.

Flow: the bot cannot answer (intent UNKNOWN) -> :func:`keep_draft` stores the question as a
draft (anything NIK-shaped masked) and the fallback reply offers a button; the resident presses
it (optionally naming their kelurahan) -> :func:`forward` opens it in the inbox, within a
per-resident limit; an official lists them with :func:`inbox` (by kelurahan, oldest first) and
answers with :func:`answer`, which returns what to send to the resident.

Scope: a question's place is the kelurahan the resident named, else that of the group the
resident registered (an RW/RT leader asking). An official sees and answers only the questions
of their scope (:func:`in_scope`); questions with no known place are the city-wide officials'.

Partisan questions are never stored or forwarded: :func:`keep_draft` and :func:`forward` refuse
them and the caller sends the neutral answer instead. Pure domain: no Telegram.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import ColumnElement, delete, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Group, Kelurahan, QuestionStatus, ResidentQuestion
from domain.intents import Intent, classify
from domain.officials import scope_contains
from messages.neutrality import check_text

MAX_QUESTION_CHARS = 1000
MAX_ANSWER_CHARS = 2000
# a resident may forward this many questions per rolling window
FORWARDS_PER_WINDOW = 3
FORWARD_WINDOW = timedelta(hours=24)
# drafts nobody forwarded are deleted after this long
DRAFT_TTL = timedelta(hours=24)
NIK_MASK = "[NIK disembunyikan]"
# the labelled set's columns (tests/data/resident_questions.csv)
LABELLED_SET_FIELDS = ("text", "intent", "split", "batch")

# 16 digits, possibly grouped with spaces, dots or dashes (the same shape domain.answers refuses)
_NIK = re.compile(r"(?<!\d)(?:\d[\s.\-]?){15}\d(?!\d)")
_LONG_NUMBER = re.compile(r"\d[\d\s.\-]{11,}\d")


def mask_nik(text: str) -> str:
    """The text with every NIK-shaped number (and any 13+ digit run) replaced by a mask."""
    masked = _LONG_NUMBER.sub(
        lambda m: NIK_MASK if len(re.sub(r"\D", "", m.group())) >= 13 else m.group(), text
    )
    return _NIK.sub(NIK_MASK, masked)


def is_partisan(text: str) -> bool:
    """Partisan questions get the neutral answer, never a person: the classifier or the
    library's partisan-terms guard (candidate names, slogans) says so."""
    return classify(text).intent is Intent.NETRAL or bool(check_text(text))


class Refusal(StrEnum):
    PARTISAN = "partisan"  # send the neutral answer
    EMPTY = "empty"
    LIMIT = "limit"  # too many forwarded recently
    GONE = "gone"  # no such draft (expired, or someone else's)
    ALREADY = "already"  # already forwarded


@dataclass(frozen=True)
class Forwarded:
    question_id: int


async def keep_draft(
    session: AsyncSession, resident_id: int, chat_id: int, text: str, now: datetime
) -> int | Refusal:
    """Store an unanswered question as a draft the resident may forward; its id, or a refusal."""
    clean = mask_nik(" ".join(text.split())[:MAX_QUESTION_CHARS])
    if not clean:
        return Refusal.EMPTY
    if is_partisan(clean):
        return Refusal.PARTISAN
    await session.execute(
        delete(ResidentQuestion).where(
            ResidentQuestion.status == QuestionStatus.DRAFT,
            ResidentQuestion.asked_at < now - DRAFT_TTL,
        )
    )
    row = ResidentQuestion(
        resident_id=resident_id,
        chat_id=chat_id,
        text=clean,
        status=QuestionStatus.DRAFT,
        asked_at=now,
        exported=False,
    )
    session.add(row)
    await session.flush()
    return row.id


async def forwarded_recently(session: AsyncSession, resident_id: int, now: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(ResidentQuestion)
        .where(
            ResidentQuestion.resident_id == resident_id,
            ResidentQuestion.forwarded_at.is_not(None),
            ResidentQuestion.forwarded_at >= now - FORWARD_WINDOW,
        )
    )
    return int(count or 0)


async def forward(
    session: AsyncSession,
    question_id: int,
    resident_id: int,
    now: datetime,
    kelurahan_code: str | None = None,
) -> Forwarded | Refusal:
    """Put a resident's own draft in the officials' inbox, within the per-resident limit."""
    row = await session.get(ResidentQuestion, question_id)
    if row is None or row.resident_id != resident_id:
        return Refusal.GONE
    if row.status is not QuestionStatus.DRAFT:
        return Refusal.ALREADY
    if is_partisan(row.text):  # never forwarded as such
        await session.delete(row)
        return Refusal.PARTISAN
    if await forwarded_recently(session, resident_id, now) >= FORWARDS_PER_WINDOW:
        return Refusal.LIMIT
    if kelurahan_code is not None and await session.get(Kelurahan, kelurahan_code) is None:
        kelurahan_code = None
    if kelurahan_code is None:
        kelurahan_code = await registered_kelurahan(session, resident_id)
    row.status = QuestionStatus.OPEN
    row.forwarded_at = now
    row.kelurahan_code = kelurahan_code
    return Forwarded(row.id)


async def registered_kelurahan(session: AsyncSession, resident_id: int) -> str | None:
    """The kelurahan of the group this resident registered most recently, if any."""
    return await session.scalar(
        select(Group.kelurahan_code)
        .where(
            Group.subscribed_by == resident_id,
            Group.subscribed.is_(True),
            Group.active.is_(True),
            Group.kelurahan_code.is_not(None),
        )
        .order_by(Group.subscribed_at.desc(), Group.id.desc())
        .limit(1)
    )


def in_scope(scope: str | None, kelurahan_code: str | None) -> bool:
    """Whether an official of ``scope`` (None: the whole city) answers for a question from
    this kelurahan (None: no known place, the city-wide officials' own)."""
    return scope_contains(scope, kelurahan_code)


def scope_clause(scope: str | None) -> ColumnElement[bool]:
    """:func:`in_scope` as a WHERE clause on ``ResidentQuestion``."""
    if scope is None:
        return true()
    return or_(
        ResidentQuestion.kelurahan_code == scope,
        ResidentQuestion.kelurahan_code.like(scope + ".%"),
    )


@dataclass(frozen=True)
class InboxItem:
    id: int
    text: str
    kelurahan: str  # name, or "" when the resident did not say
    age: timedelta


async def inbox(
    session: AsyncSession, now: datetime, *, scope: str | None, limit: int = 30
) -> list[tuple[str, list[InboxItem]]]:
    """The open questions of ``scope`` grouped by kelurahan (named ones first, by name), oldest
    first in each."""
    rows = (
        await session.execute(
            select(ResidentQuestion, Kelurahan.name)
            .outerjoin(Kelurahan, Kelurahan.code == ResidentQuestion.kelurahan_code)
            .where(ResidentQuestion.status == QuestionStatus.OPEN, scope_clause(scope))
            .order_by(ResidentQuestion.forwarded_at, ResidentQuestion.id)
            .limit(limit)
        )
    ).all()
    groups: dict[str, list[InboxItem]] = {}
    for question, name in rows:
        since = question.forwarded_at or question.asked_at
        item = InboxItem(question.id, question.text, name or "", now - since)
        groups.setdefault(name or "", []).append(item)
    return sorted(groups.items(), key=lambda kv: (kv[0] == "", kv[0]))


def age_label(age: timedelta) -> str:
    """'baru saja', '25 menit', '3 jam', '2 hari'."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return "baru saja"
    if minutes < 60:
        return f"{minutes} menit"
    if minutes < 24 * 60:
        return f"{minutes // 60} jam"
    return f"{minutes // (24 * 60)} hari"


async def open_question_text(
    session: AsyncSession, question_id: int, *, scope: str | None
) -> str | None:
    """The text of an open (forwarded, unanswered) question of ``scope``, or None."""
    row = await session.get(ResidentQuestion, question_id)
    if row is None or row.status is not QuestionStatus.OPEN:
        return None
    return row.text if in_scope(scope, row.kelurahan_code) else None


@dataclass(frozen=True)
class Delivery:
    """What to send to the resident after an official answered."""

    chat_id: int
    question: str
    answer: str


async def answer(
    session: AsyncSession,
    question_id: int,
    official_id: int,
    text: str,
    now: datetime,
    *,
    scope: str | None,
) -> Delivery | Refusal:
    """Record an official's answer to an open question of their ``scope``; what to send to the
    resident."""
    clean = text.strip()[:MAX_ANSWER_CHARS]
    if not clean:
        return Refusal.EMPTY
    row = await session.get(ResidentQuestion, question_id)
    if row is None or row.status is QuestionStatus.DRAFT:
        return Refusal.GONE
    if not in_scope(scope, row.kelurahan_code):
        return Refusal.GONE
    if row.status is QuestionStatus.ANSWERED:
        return Refusal.ALREADY
    row.status = QuestionStatus.ANSWERED
    row.answered_at = now
    row.answered_by = official_id
    row.answer = clean
    return Delivery(row.chat_id, row.text, clean)


# -- the labelled set ---------------------------------------------------------------------------


async def label(session: AsyncSession, question_id: int, intent: Intent) -> bool:
    """Give an answered question the intent it should have had (for the labelled set)."""
    row = await session.get(ResidentQuestion, question_id)
    if row is None or row.status is not QuestionStatus.ANSWERED:
        return False
    row.intent = intent.value
    return True


async def export_labelled(session: AsyncSession, csv_path: Path) -> int:
    """Append answered, labelled, not yet exported questions to the labelled set CSV.

    They join the ``tune`` split (batch ``inbox``); a text already in the file is skipped. A
    missing file is started with the labelled set's header. Returns how many rows were added.
    """
    rows = (
        await session.scalars(
            select(ResidentQuestion).where(
                ResidentQuestion.status == QuestionStatus.ANSWERED,
                ResidentQuestion.intent.is_not(None),
                ResidentQuestion.exported.is_(False),
            )
        )
    ).all()
    _start_labelled_set(csv_path)
    with csv_path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        existing = {r["text"] for r in reader}
    added = 0
    with csv_path.open("a", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        for row in rows:
            row.exported = True
            if row.text in existing:
                continue
            writer.writerow(_csv_row(fields, row.text, row.intent or "", "tune", "inbox"))
            existing.add(row.text)
            added += 1
    return added


def _start_labelled_set(csv_path: Path) -> None:
    """A missing file becomes an empty labelled set (its header only)."""
    if not csv_path.exists():
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        csv_path.write_text(",".join(LABELLED_SET_FIELDS) + "\n", encoding="utf-8")


def _csv_row(fields: Iterable[str], text: str, intent: str, split: str, batch: str) -> dict:
    values = {"text": text, "intent": intent, "split": split, "batch": batch}
    return {name: values.get(name, "") for name in fields}
