"""Pre-flight: before a broadcast, ask Telegram whether every registered group can still receive.

Per group, `getChatMember` for the bot first (one call answers "gone", "kicked", "migrated",
"restricted" and "admin"), then `getChat` only for a bot that is a plain member, whose right to
send follows the group's default permissions. Calls are paced by one PriorityPacer (a 429
pauses every worker, then the same call is retried); a migration is followed at once with
`domain.groups.migrate_chat` and the new chat checked; a chat that is gone or has the bot out is
deactivated (as the engine does on a 403); every result is stored, so `domain.reach.reach()`
can tell a `/siaran` preview how many groups the next broadcast reaches and why the others not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.models import Group, PreflightCheck, ReachOutcome
from domain.groups import deactivate_chat, migrate_chat
from scheduler.audience import Audience
from scheduler.ratelimit import PriorityPacer

# Reads per second. Telegram publishes limits only for sending (about 30 messages a second);
# reading stays under that so a check running beside a broadcast leaves it room.
DEFAULT_RATE = 25.0
WORKERS = 8
TRANSIENT_TRIES = 3
MAX_MIGRATIONS = 2  # a basic group becomes a supergroup once; more is a loop


class Answer(StrEnum):
    OK = "ok"
    MIGRATED = "migrated"  # 400 with migrate_to_chat_id
    NOT_FOUND = "not_found"  # 400 chat not found (or the chat was deleted)
    FORBIDDEN = "forbidden"  # 403: kicked, or not a member
    RETRY_AFTER = "retry_after"  # 429
    TRANSIENT = "transient"  # network error, timeout, 5xx


@dataclass(frozen=True)
class Probe:
    """Telegram's answer to getChat or getChatMember, as plain data."""

    answer: Answer
    # getChatMember: creator, administrator, member, restricted, left or kicked.
    status: str | None = None
    # getChatMember: the bot's own right (restricted); getChat: the members' default right.
    can_send: bool | None = None
    new_chat_id: int | None = None
    retry_after: float = 0.0
    reason: str = ""


class ChatProber(Protocol):
    """What the pre-flight needs from Telegram (bot/preflight.py implements it over PTB)."""

    async def bot_member(self, chat_id: int) -> Probe: ...

    async def chat(self, chat_id: int) -> Probe: ...


@dataclass(frozen=True)
class Finding:
    group_id: int
    chat_id: int
    outcome: ReachOutcome
    detail: str = ""
    migrated_from: int | None = None


class _Paced:
    """Every call through one pacer; 429 pauses everyone and retries, transient errors retry."""

    def __init__(self, prober: ChatProber, pacer: PriorityPacer) -> None:
        self.prober = prober
        self.pacer = pacer
        self.calls = 0
        self.retry_after = 0  # 429 answers seen

    async def ask(self, method: Callable[[int], Awaitable[Probe]], chat_id: int) -> Probe:
        transient = 0
        while True:
            await self.pacer.acquire()
            self.calls += 1
            probe = await method(chat_id)
            if probe.answer is Answer.RETRY_AFTER:
                self.retry_after += 1
                self.pacer.pause(max(probe.retry_after, 1.0))
                continue
            if probe.answer is Answer.TRANSIENT:
                transient += 1
                if transient < TRANSIENT_TRIES:
                    await asyncio.sleep(0.2 * transient)
                    continue
            return probe


def _refused(probe: Probe) -> tuple[ReachOutcome, str] | None:
    """The outcome for an answer that ends the check, or None to go on."""
    if probe.answer is Answer.NOT_FOUND:
        return ReachOutcome.NOT_FOUND, probe.reason
    if probe.answer is Answer.FORBIDDEN:
        kicked = "kicked" in probe.reason
        return (ReachOutcome.KICKED if kicked else ReachOutcome.LEFT), probe.reason
    if probe.answer is Answer.TRANSIENT:
        return ReachOutcome.UNKNOWN, probe.reason
    return None


async def _check_chat(paced: _Paced, chat_id: int) -> tuple[ReachOutcome, str, int | None]:
    """(outcome, detail, new chat id when Telegram said the group migrated)."""
    member = await paced.ask(paced.prober.bot_member, chat_id)
    if member.answer is Answer.MIGRATED:
        return ReachOutcome.OK, "migrated", member.new_chat_id
    refused = _refused(member)
    if refused is not None:
        return (*refused, None)
    if member.status == "kicked":
        return ReachOutcome.KICKED, "bot was kicked", None
    if member.status == "left":
        return ReachOutcome.LEFT, "bot is not a member", None
    if member.status == "restricted":
        if member.can_send is False:
            return ReachOutcome.CANNOT_SEND, "bot is restricted", None
        return ReachOutcome.OK, "", None
    if member.status in ("creator", "administrator"):
        return ReachOutcome.OK, "", None
    chat = await paced.ask(paced.prober.chat, chat_id)
    if chat.answer is Answer.MIGRATED:
        return ReachOutcome.OK, "migrated", chat.new_chat_id
    refused = _refused(chat)
    if refused is not None:
        return (*refused, None)
    if chat.can_send is False:
        return ReachOutcome.CANNOT_SEND, "members may not send messages", None
    return ReachOutcome.OK, "", None


@dataclass
class Run:
    run_at: datetime
    findings: list[Finding] = field(default_factory=list)
    calls: int = 0
    retry_after: int = 0


async def _check_group(
    paced: _Paced, sessions: SessionFactory, now: Callable[[], datetime], group: tuple[int, int]
) -> Finding:
    group_id, chat_id = group
    migrated_from: int | None = None
    for _ in range(MAX_MIGRATIONS + 1):
        outcome, detail, new_chat_id = await _check_chat(paced, chat_id)
        if new_chat_id is None:
            return Finding(group_id, chat_id, outcome, detail, migrated_from)
        async with sessions.begin() as session:
            moved = await migrate_chat(session, chat_id, new_chat_id, now())
            if moved is not None:
                group_id = moved.id
        migrated_from = migrated_from or chat_id
        chat_id = new_chat_id
    return Finding(group_id, chat_id, ReachOutcome.UNKNOWN, "migration loop", migrated_from)


async def registered_groups(session: AsyncSession) -> list[tuple[int, int]]:
    """(group id, chat id) of every group the next city-wide broadcast would go to."""
    rows = await session.execute(
        Audience().groups_query().with_only_columns(Group.id, Group.chat_id).order_by(Group.id)
    )
    return [(gid, cid) for gid, cid in rows.all()]


async def run_preflight(
    sessions: SessionFactory,
    prober: ChatProber,
    now: Callable[[], datetime],
    *,
    rate: float = DEFAULT_RATE,
    workers: int = WORKERS,
    pacer: PriorityPacer | None = None,
) -> Run:
    """Check every registered group, store what was found, deactivate the lost ones."""
    async with sessions() as session:
        groups = await registered_groups(session)
    run = Run(run_at=now())
    paced = _Paced(prober, pacer or PriorityPacer(rate))
    queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    for item in groups:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            run.findings.append(await _check_group(paced, sessions, now, queue.get_nowait()))

    await asyncio.gather(*(worker() for _ in range(max(1, min(workers, len(groups))))))
    run.calls, run.retry_after = paced.calls, paced.retry_after
    await _store(sessions, run, now())
    return run


_LOST = (ReachOutcome.KICKED, ReachOutcome.LEFT, ReachOutcome.NOT_FOUND)


async def _store(sessions: SessionFactory, run: Run, now: datetime) -> None:
    async with sessions.begin() as session:
        for f in run.findings:
            session.add(
                PreflightCheck(
                    run_at=run.run_at,
                    group_id=f.group_id,
                    chat_id=f.chat_id,
                    migrated_from_chat_id=f.migrated_from,
                    outcome=f.outcome,
                    detail=f.detail[:255],
                    checked_at=now,
                )
            )
            if f.outcome in _LOST:
                await deactivate_chat(session, f.chat_id, f"preflight: {f.outcome.value}", now)
