"""The officials' inbox, without Telegram: drafts, forwarding, limits, answers, the labelled set."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db.engine import SessionFactory
from db.models import QuestionStatus, ResidentQuestion
from domain import questions
from domain.intents import Intent

NOW = datetime(2024, 11, 25, 3, 0, tzinfo=UTC)
RESIDENT, OTHER, OFFICIAL = 700001, 700002, 910001


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("nik saya 3573051234560001 kok gak muncul", "nik saya [NIK disembunyikan] kok gak muncul"),
        ("3573 0512 3456 0001", "[NIK disembunyikan]"),
        ("kk 3573.0512.3456.0001.22", "kk [NIK disembunyikan]"),
        ("hp 081234567890", "hp 081234567890"),  # a phone number stays
        ("rt 3 rw 5", "rt 3 rw 5"),
    ],
)
def test_nik_is_masked_before_anything_is_stored(text: str, masked: str) -> None:
    assert questions.mask_nik(text) == masked


def test_partisan_questions_are_recognised() -> None:
    assert questions.is_partisan("calon mana yang paling pantes dipilih?")
    assert not questions.is_partisan("apakah ada tenda di TPS kalau hujan?")


async def test_draft_forward_answer(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        draft = await questions.keep_draft(
            session, RESIDENT, RESIDENT, "nik 3573051234560001, ada tenda di TPS?", NOW
        )
        assert isinstance(draft, int)
        assert await questions.inbox(session, NOW) == []  # a draft is not in the inbox
        assert await questions.forward(session, draft, OTHER, NOW) is questions.Refusal.GONE
        assert isinstance(
            await questions.forward(session, draft, RESIDENT, NOW), questions.Forwarded
        )
        assert await questions.forward(session, draft, RESIDENT, NOW) is questions.Refusal.ALREADY
    async with sessions() as session:
        [(kelurahan, items)] = await questions.inbox(session, NOW + timedelta(hours=3))
        assert kelurahan == "" and items[0].text == "nik [NIK disembunyikan], ada tenda di TPS?"
        assert questions.age_label(items[0].age) == "3 jam"
    async with sessions.begin() as session:
        assert (
            await questions.answer(session, draft, OFFICIAL, "  ", NOW) is questions.Refusal.EMPTY
        )
        delivery = await questions.answer(session, draft, OFFICIAL, "Ada tenda.", NOW)
        assert delivery == questions.Delivery(RESIDENT, items[0].text, "Ada tenda.")
        again = await questions.answer(session, draft, OFFICIAL, "Lagi.", NOW)
        assert again is questions.Refusal.ALREADY
    async with sessions() as session:
        stored = (await session.scalars(select(ResidentQuestion))).one()
        assert "3573051234560001" not in stored.text
        assert stored.status is QuestionStatus.ANSWERED and stored.answered_by == OFFICIAL


async def test_partisan_questions_are_never_stored(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        refused = await questions.keep_draft(
            session, RESIDENT, RESIDENT, "paslon sing didukung pemkot sing endi", NOW
        )
        assert refused is questions.Refusal.PARTISAN
    async with sessions() as session:
        assert (await session.scalars(select(ResidentQuestion))).all() == []


async def test_forwarding_is_limited_per_resident(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        results = []
        for n in range(questions.FORWARDS_PER_WINDOW + 1):
            draft = await questions.keep_draft(session, RESIDENT, RESIDENT, f"tenda {n}?", NOW)
            assert isinstance(draft, int)
            results.append(await questions.forward(session, draft, RESIDENT, NOW))
        assert results[-1] is questions.Refusal.LIMIT
        assert all(isinstance(r, questions.Forwarded) for r in results[:-1])
        # another resident is not affected; a day later Rudi may forward again
        other = await questions.keep_draft(session, OTHER, OTHER, "tenda?", NOW)
        assert isinstance(await questions.forward(session, other, OTHER, NOW), questions.Forwarded)
        later = NOW + questions.FORWARD_WINDOW + timedelta(minutes=1)
        draft = await questions.keep_draft(session, RESIDENT, RESIDENT, "tenda lagi?", later)
        assert isinstance(
            await questions.forward(session, draft, RESIDENT, later), questions.Forwarded
        )


async def test_old_drafts_are_purged(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        await questions.keep_draft(session, RESIDENT, RESIDENT, "lama?", NOW)
        await questions.keep_draft(session, OTHER, OTHER, "baru?", NOW + timedelta(days=2))
    async with sessions() as session:
        texts = [q.text for q in (await session.scalars(select(ResidentQuestion))).all()]
    assert texts == ["baru?"]


async def test_answered_and_labelled_questions_join_the_labelled_set(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    path = tmp_path / "questions.csv"
    path.write_text("text,intent,split,batch\nada tenda?,unknown,tune,v1\n", encoding="utf-8")
    async with sessions.begin() as session:
        ids = []
        for text in ("ada tenda?", "ojek gratis ke TPS?", "belum dijawab?"):
            draft = await questions.keep_draft(session, RESIDENT, RESIDENT, text, NOW)
            assert isinstance(draft, int)
            await questions.forward(session, draft, RESIDENT, NOW)
            ids.append(draft)
        for question_id in ids[:2]:
            await questions.answer(session, question_id, OFFICIAL, "Jawaban.", NOW)
        assert await questions.label(session, ids[0], Intent.UNKNOWN)
        assert await questions.label(session, ids[1], Intent.PENDAMPING)
        assert not await questions.label(session, ids[2], Intent.KAPAN)  # not answered yet
    async with sessions.begin() as session:
        assert await questions.export_labelled(session, path) == 1  # "ada tenda?" is there
    async with sessions.begin() as session:
        assert await questions.export_labelled(session, path) == 0  # exported once
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[-1] == {
        "text": "ojek gratis ke TPS?",
        "intent": "pendamping",
        "split": "tune",
        "batch": "inbox",
    }
