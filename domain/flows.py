"""Multi-step flows kept in the database: where a user is in /daftar, /siaran and the like.

A flow is identified by its kind, chat and user (user 0: the chat's flow, whoever continues
it). Starting one again replaces it under a new token; the flow's buttons carry the token, so
a press from a replaced flow is told apart from a press of the current one. Rows outlive a
restart of the bot; they expire after their `ttl` and are then refused in words, not silently.

The data is a small JSON object the flow's own module reads and writes (ids, keys, an ISO
time): plain values only, never Telegram objects.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import FlowState

CHAT_FLOW = 0  # user_id of a flow that belongs to the chat rather than one user


class FlowKind(StrEnum):
    """Every flow the bot runs; a new flow adds its kind here (at most 20 characters)."""

    REGISTRATION = "daftar"
    BROADCAST = "siaran"
    FIELD_REPORT = "lapor"  # /lapor: a leader's report from the field (bot.handlers.field_reports)
    POSKO_NOTE = "posko_catatan"  # the note an official types to close a case (bot.handlers.posko)
    CHECKIN_DESCRIPTION = "cekin_uraian"  # a leader's short description after a check-in


# How long an untouched flow stays open. Each step starts the clock again.
TTL: dict[FlowKind, timedelta] = {
    FlowKind.REGISTRATION: timedelta(hours=24),
    FlowKind.BROADCAST: timedelta(hours=2),
    FlowKind.FIELD_REPORT: timedelta(hours=12),
    FlowKind.POSKO_NOTE: timedelta(hours=2),
    FlowKind.CHECKIN_DESCRIPTION: timedelta(hours=12),
}


@dataclass(frozen=True)
class Flow:
    kind: FlowKind
    chat_id: int
    user_id: int
    token: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class Found(StrEnum):
    CURRENT = "current"
    EXPIRED = "expired"  # it was there, but nobody touched it for longer than its TTL
    STALE = "stale"  # another (newer) flow, or none at all: the token names nothing current


@dataclass(frozen=True)
class Lookup:
    found: Found
    flow: Flow | None = None


def _flow(row: FlowState) -> Flow:
    return Flow(
        kind=FlowKind(row.kind),
        chat_id=row.chat_id,
        user_id=row.user_id,
        token=row.token,
        step=row.step,
        data=dict(row.data or {}),
        expires_at=row.expires_at,
    )


async def _row(
    session: AsyncSession, kind: FlowKind, chat_id: int, user_id: int
) -> FlowState | None:
    return await session.scalar(
        select(FlowState).where(
            FlowState.kind == kind.value,
            FlowState.chat_id == chat_id,
            FlowState.user_id == user_id,
        )
    )


async def start(
    session: AsyncSession,
    kind: FlowKind,
    chat_id: int,
    user_id: int,
    now: datetime,
    *,
    step: str,
    data: dict[str, Any] | None = None,
) -> Flow:
    """A new flow under a new token, replacing any flow of that kind, chat and user."""
    row = await _row(session, kind, chat_id, user_id)
    if row is None:
        row = FlowState(kind=kind.value, chat_id=chat_id, user_id=user_id)
        session.add(row)
    row.token = secrets.token_hex(3)
    row.step = step
    row.data = dict(data or {})
    row.expires_at = now + TTL[kind]
    row.updated_at = now
    await session.flush()
    return _flow(row)


async def current(
    session: AsyncSession, kind: FlowKind, chat_id: int, user_id: int, now: datetime
) -> Lookup:
    """The flow open for this kind, chat and user, whatever its token."""
    row = await _row(session, kind, chat_id, user_id)
    if row is None:
        return Lookup(Found.STALE)
    flow = _flow(row)
    return Lookup(Found.EXPIRED if flow.expired(now) else Found.CURRENT, flow)


async def of_user(session: AsyncSession, kind: FlowKind, user_id: int, now: datetime) -> list[Flow]:
    """Every unexpired flow of this kind the user has open, in any chat (oldest first)."""
    rows = await session.scalars(
        select(FlowState)
        .where(
            FlowState.kind == kind.value,
            FlowState.user_id == user_id,
            FlowState.expires_at > now,
        )
        .order_by(FlowState.id)
    )
    return [_flow(row) for row in rows.all()]


async def find(
    session: AsyncSession, kind: FlowKind, chat_id: int, user_id: int, token: str, now: datetime
) -> Lookup:
    """The flow a button with `token` belongs to, if it is still the current one."""
    lookup = await current(session, kind, chat_id, user_id, now)
    if lookup.flow is None or lookup.flow.token != token:
        return Lookup(Found.STALE)
    return lookup


async def advance(
    session: AsyncSession,
    flow: Flow,
    now: datetime,
    *,
    step: str,
    data: dict[str, Any] | None = None,
) -> Flow:
    """Record the next step (and data, merged in); the flow's time to live starts again."""
    row = await _row(session, flow.kind, flow.chat_id, flow.user_id)
    if row is None or row.token != flow.token:
        raise LookupError(f"flow {flow.kind}:{flow.chat_id}:{flow.user_id} was replaced")
    row.step = step
    row.data = {**(row.data or {}), **(data or {})}
    row.expires_at = now + TTL[flow.kind]
    row.updated_at = now
    await session.flush()
    return _flow(row)


async def end(session: AsyncSession, kind: FlowKind, chat_id: int, user_id: int) -> None:
    """Close the flow (done, cancelled, or its chat gone); its buttons become stale."""
    await session.execute(
        delete(FlowState).where(
            FlowState.kind == kind.value,
            FlowState.chat_id == chat_id,
            FlowState.user_id == user_id,
        )
    )


async def end_all_in(session: AsyncSession, chat_id: int) -> None:
    """Every flow of a chat: the bot left it, or it moved to a new id."""
    await session.execute(delete(FlowState).where(FlowState.chat_id == chat_id))


async def purge_expired(session: AsyncSession, now: datetime, keep: timedelta) -> int:
    """Forget flows expired longer than `keep` ago (until then a press is told it expired)."""
    result = await session.execute(delete(FlowState).where(FlowState.expires_at < now - keep))
    return int(getattr(result, "rowcount", 0) or 0)
