"""`ack = true` on an agenda step: validated with its line, carried to the broadcast row, and
the profile's escalation chain then follows the silent groups (domain.escalation)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from db.engine import SessionFactory
from db.models import Broadcast
from domain.escalation import requires_ack
from election.profile import ElectionProfile
from scheduler.agenda import sync_agendas
from scheduler.agenda_file import AgendaRejected, parse_agenda

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)

AGENDA = """\
name = "siaga-banjir"
title = "Siaga banjir"
topic = "bencana"

[anchors]
H = 2026-12-10

[[step]]
key = "siaga"
at = "H-1 07.00"
message = "hoaks.saring"
ack = true

[[step]]
key = "biasa"
at = "H 07.00"
message = "hoaks.saring"
"""


def _rejected(text: str, profile: ElectionProfile) -> list[str]:
    with pytest.raises(AgendaRejected) as refused:
        parse_agenda(text, profile)
    return [str(p) for p in refused.value.problems]


async def test_an_acknowledged_step_starts_the_profiles_chain(
    sessions: SessionFactory, profile: ElectionProfile
) -> None:
    assert profile.acknowledgement.chain  # the premise: the shipped profile has a chain
    agenda = parse_agenda(AGENDA, profile)
    assert [(s.key, s.ack) for s in agenda.steps] == [("siaga", True), ("biasa", False)]
    async with sessions.begin() as session:
        await sync_agendas(session, [agenda], NOW)
    async with sessions() as session:
        rows = {
            b.timeline_key: b
            for b in (await session.scalars(select(Broadcast).order_by(Broadcast.id))).all()
        }
    assert rows["siaga-banjir:siaga"].ack_chain is True
    assert requires_ack(rows["siaga-banjir:siaga"], profile)
    assert not requires_ack(rows["siaga-banjir:biasa"], profile)

    # Loaded again without ack: an admin's /eskalasi on a waiting one is not undone.
    async with sessions.begin() as session:
        waiting = await session.scalar(
            select(Broadcast).where(Broadcast.timeline_key == "siaga-banjir:biasa")
        )
        assert waiting is not None
        waiting.ack_chain = True
        await sync_agendas(
            session, [parse_agenda(AGENDA.replace("ack = true\n", ""), profile)], NOW
        )
    async with sessions() as session:
        flags = dict(
            (await session.execute(select(Broadcast.timeline_key, Broadcast.ack_chain))).all()
        )
    assert flags == {"siaga-banjir:siaga": True, "siaga-banjir:biasa": True}


def test_ack_is_a_boolean_named_by_its_line(profile: ElectionProfile) -> None:
    problems = _rejected(AGENDA.replace("ack = true", 'ack = "ya"'), profile)
    assert problems == ["baris 12: langkah siaga: ack ditulis true atau false, tanpa tanda kutip"]


def test_ack_is_refused_on_a_checkin(profile: ElectionProfile) -> None:
    checkin = AGENDA.replace(
        'message = "hoaks.saring"\nack = true',
        'message = "hoaks.saring"\nack = true\n'
        'answers = [{ key = "aman", label = "Aman" }, { key = "belum", label = "Belum" }]\n'
        'deadline = "H-1 10.00"\ncategory = "lainnya"',
    )
    (problem,) = _rejected(checkin, profile)
    assert problem.startswith("baris 12: langkah siaga: cek-in (answers) tidak memakai ack")


def test_ack_needs_a_chain_in_the_profile(profile: ElectionProfile) -> None:
    without = profile.model_copy(
        update={"acknowledgement": profile.acknowledgement.model_copy(update={"chain": []})}
    )
    (problem,) = _rejected(AGENDA, without)
    assert problem.startswith("baris 12: langkah siaga: ack = true perlu rantai eskalasi")
