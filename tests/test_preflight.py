"""Pre-flight and reach on a real SQLite file, with a recording fake of Telegram."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from db.engine import SessionFactory
from db.models import Group, GroupLevel, PreflightCheck, ReachOutcome
from domain.preflight import Answer, Probe, run_preflight
from domain.reach import reach, reach_line, reach_text
from election.profile import ElectionProfile
from messages.telegram_html import visible_text
from scheduler.audience import Audience
from scheduler.clock import FixedClock
from tests.scheduler.fakes import add_groups

MEMBER = Probe(Answer.OK, status="member")
OPEN = Probe(Answer.OK, can_send=True)


@dataclass
class RecordingProber:
    """Answers from a script per (method, chat id), in turn; the last answer repeats."""

    members: dict[int, list[Probe]] = field(default_factory=dict)
    chats: dict[int, list[Probe]] = field(default_factory=dict)
    calls: list[tuple[str, int]] = field(default_factory=list)

    def _next(self, script: dict[int, list[Probe]], chat_id: int, default: Probe) -> Probe:
        answers = script.get(chat_id)
        if not answers:
            return default
        return answers.pop(0) if len(answers) > 1 else answers[0]

    async def bot_member(self, chat_id: int) -> Probe:
        self.calls.append(("getChatMember", chat_id))
        return self._next(self.members, chat_id, MEMBER)

    async def chat(self, chat_id: int) -> Probe:
        self.calls.append(("getChat", chat_id))
        return self._next(self.chats, chat_id, OPEN)


async def groups_by_chat(sessions: SessionFactory) -> dict[int, Group]:
    async with sessions() as session:
        return {g.chat_id: g for g in (await session.scalars(select(Group))).all()}


async def test_each_kind_of_trouble_is_found_stored_and_counted(
    sessions: SessionFactory, clock: FixedClock, profile: ElectionProfile
) -> None:
    ok, admin, kicked, restricted, closed, moved, gone, slow, flaky, silent = await add_groups(
        sessions, 10
    )
    prober = RecordingProber(
        members={
            admin: [Probe(Answer.OK, status="administrator")],
            kicked: [Probe(Answer.FORBIDDEN, reason="Forbidden: bot was kicked from the group")],
            restricted: [Probe(Answer.OK, status="restricted", can_send=False)],
            moved: [Probe(Answer.MIGRATED, new_chat_id=-100777)],
            gone: [Probe(Answer.NOT_FOUND, reason="Chat not found")],
            slow: [Probe(Answer.RETRY_AFTER, retry_after=0.01), MEMBER],
            flaky: [Probe(Answer.TRANSIENT, reason="Bad Gateway"), MEMBER],
            silent: [Probe(Answer.TRANSIENT, reason="Timed out")],
        },
        chats={closed: [Probe(Answer.OK, can_send=False)]},
    )
    run = await run_preflight(sessions, prober, clock.now, rate=1000)

    outcomes = {f.chat_id: f.outcome for f in run.findings}
    assert outcomes == {
        ok: ReachOutcome.OK,
        admin: ReachOutcome.OK,
        kicked: ReachOutcome.KICKED,
        restricted: ReachOutcome.CANNOT_SEND,
        closed: ReachOutcome.CANNOT_SEND,
        -100777: ReachOutcome.OK,
        gone: ReachOutcome.NOT_FOUND,
        slow: ReachOutcome.OK,
        flaky: ReachOutcome.OK,
        silent: ReachOutcome.UNKNOWN,
    }
    # An admin bot needs no getChat; a 429 is retried once it has waited; a migration is
    # followed on the new id.
    assert ("getChat", admin) not in prober.calls
    assert prober.calls.count(("getChatMember", slow)) == 2 and run.retry_after == 1
    assert ("getChatMember", -100777) in prober.calls
    assert prober.calls.count(("getChatMember", silent)) == 3

    rows = await groups_by_chat(sessions)
    assert moved not in rows and rows[-100777].migrated_from_chat_id == moved
    assert rows[-100777].active and rows[-100777].subscribed
    assert not rows[kicked].active and not rows[gone].active
    assert rows[restricted].active  # an admin can lift the restriction: keep it registered
    async with sessions() as session:
        stored = (await session.scalars(select(PreflightCheck))).all()
        result = await reach(session)
    assert len(stored) == 10 and {c.run_at for c in stored} == {clock.now()}

    assert (result.total, result.reachable, result.migrated) == (10, 5, 1)
    assert dict(result.lost) == {
        ReachOutcome.KICKED: 1,
        ReachOutcome.CANNOT_SEND: 2,
        ReachOutcome.NOT_FOUND: 1,
        ReachOutcome.UNKNOWN: 1,
    }
    line = visible_text(reach_line(result, profile, clock.now()))
    assert line.startswith(
        "📡 Siaran berikutnya menjangkau 5 dari 10 grup; 1 bot dikeluarkan, "
        "1 pindah ke supergrup (sudah diperbarui), 2 tidak boleh mengirim pesan, "
        "1 grup sudah tidak ada, 1 tidak dapat diperiksa."
    )
    assert "Diperiksa 25/11 08.00 WIB" in line
    text = visible_text(reach_text(result, profile, clock.now()))
    assert "Sumbersari (Lowokwaru)" in text
    assert text.count("• ") == 6  # five unreachable and the moved one


async def test_reach_follows_the_audience_and_counts_groups_registered_since(
    sessions: SessionFactory, clock: FixedClock, profile: ElectionProfile
) -> None:
    async with sessions() as session:
        before = await reach(session)
    assert before.run_at is None
    assert "belum diperiksa" in visible_text(reach_line(before, profile, clock.now()))

    (kicked, _) = await add_groups(sessions, 2, start_chat=-2000)
    await add_groups(sessions, 3, kelurahan="35.73.02.1008", level=GroupLevel.RT, start_chat=-3000)
    prober = RecordingProber(members={kicked: [Probe(Answer.FORBIDDEN, reason="bot was kicked")]})
    await run_preflight(sessions, prober, clock.now, rate=1000)
    await add_groups(sessions, 1, start_chat=-4000)  # registered after the run

    async with sessions() as session:
        city = await reach(session)
        sumbersari = await reach(session, Audience.parse("kelurahan:35.73.05.1005"))
        rt = await reach(session, Audience.parse("rt"))
    assert (city.total, city.reachable, city.unchecked) == (6, 5, 1)
    assert (sumbersari.total, sumbersari.reachable) == (3, 2)
    assert dict(sumbersari.lost) == {ReachOutcome.KICKED: 1}
    assert (rt.total, rt.reachable, dict(rt.lost)) == (3, 3, {})
    assert "1 terdaftar sesudah pemeriksaan" in visible_text(reach_line(city, profile, clock.now()))


async def test_a_second_run_replaces_the_picture(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    (restricted,) = await add_groups(sessions, 1)
    blocked = Probe(Answer.OK, status="restricted", can_send=False)
    await run_preflight(sessions, RecordingProber(members={restricted: [blocked]}), clock.now)
    clock.advance(timedelta(minutes=60))
    await run_preflight(sessions, RecordingProber(), clock.now)  # the admin lifted it
    async with sessions() as session:
        result = await reach(session)
    assert (result.total, result.reachable, result.run_at) == (1, 1, clock.now())
