"""The officials' inbox, without Telegram: drafts, forwarding, limits, answers, the labelled set."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db.engine import SessionFactory
from db.models import Group, GroupLevel, QuestionStatus, ResidentQuestion
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
        assert await questions.inbox(session, NOW, scope=None) == []  # a draft is not in the inbox
        assert await questions.forward(session, draft, OTHER, NOW) is questions.Refusal.GONE
        assert isinstance(
            await questions.forward(session, draft, RESIDENT, NOW), questions.Forwarded
        )
        assert await questions.forward(session, draft, RESIDENT, NOW) is questions.Refusal.ALREADY
    async with sessions() as session:
        [(kelurahan, items)] = await questions.inbox(session, NOW + timedelta(hours=3), scope=None)
        assert kelurahan == "" and items[0].text == "nik [NIK disembunyikan], ada tenda di TPS?"
        assert questions.age_label(items[0].age) == "3 jam"
    async with sessions.begin() as session:
        assert (
            await questions.answer(session, draft, OFFICIAL, "  ", NOW, scope=None)
            is questions.Refusal.EMPTY
        )
        delivery = await questions.answer(session, draft, OFFICIAL, "Ada tenda.", NOW, scope=None)
        assert delivery == questions.Delivery(RESIDENT, items[0].text, "Ada tenda.")
        again = await questions.answer(session, draft, OFFICIAL, "Lagi.", NOW, scope=None)
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
            await questions.answer(session, question_id, OFFICIAL, "Jawaban.", NOW, scope=None)
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


async def test_the_inbox_and_answers_follow_the_officials_scope(sessions: SessionFactory) -> None:
    klojen, lowokwaru, sumbersari = "35.73.02", "35.73.05", "35.73.05.1005"
    async with sessions.begin() as session:
        session.add(
            Group(
                chat_id=-100700,
                level=GroupLevel.RW,
                kelurahan_code=sumbersari,
                rw=1,
                subscribed=True,
                subscribed_by=OTHER,
                subscribed_at=NOW,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        ids = []
        for resident, named in ((RESIDENT, "35.73.02.1008"), (OTHER, None), (700003, None)):
            draft = await questions.keep_draft(session, resident, resident, f"{resident}?", NOW)
            assert isinstance(draft, int)
            assert isinstance(
                await questions.forward(session, draft, resident, NOW, kelurahan_code=named),
                questions.Forwarded,
            )
            ids.append(draft)
    from_oro_oro_dowo, from_the_leader, from_nowhere = ids

    async def seen(scope: str | None) -> set[int]:
        async with sessions() as session:
            listed = await questions.inbox(session, NOW, scope=scope)
        return {item.id for _, items in listed for item in items}

    assert await seen(None) == set(ids)
    assert await seen(klojen) == {from_oro_oro_dowo}
    assert await seen(lowokwaru) == await seen(sumbersari) == {from_the_leader}
    assert await seen("35.73.05.1004") == set()
    async with sessions.begin() as session:
        row = await session.get(ResidentQuestion, from_the_leader)
        assert row is not None and row.kelurahan_code == sumbersari  # from the leader's group
        assert await questions.open_question_text(session, from_nowhere, scope=klojen) is None
        refused = await questions.answer(
            session, from_oro_oro_dowo, OFFICIAL, "Ada.", NOW, scope=lowokwaru
        )
        assert refused is questions.Refusal.GONE
        done = await questions.answer(
            session, from_oro_oro_dowo, OFFICIAL, "Ada.", NOW, scope=klojen
        )
        assert isinstance(done, questions.Delivery)
