"""The flow store on a real SQLite file: one flow per kind, chat and user; tokens; expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import SessionFactory
from db.models import Base
from domain import flows
from domain.flows import CHAT_FLOW, TTL, FlowKind, Found
from scheduler.clock import FixedClock

CHAT, USER = -1001234567890123, 910001
KIND = FlowKind.BROADCAST


async def test_a_flow_is_found_by_its_token_and_replaced_by_a_new_start(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        first = await flows.start(session, KIND, CHAT, USER, now, step="pick")
    async with sessions.begin() as session:
        found = await flows.find(session, KIND, CHAT, USER, first.token, now)
        assert found.found is Found.CURRENT and found.flow == first
        second = await flows.start(session, KIND, CHAT, USER, now, step="pick", data={"a": 1})
    assert second.token != first.token
    async with sessions() as session:
        assert (await flows.find(session, KIND, CHAT, USER, first.token, now)).found is Found.STALE
        lookup = await flows.find(session, KIND, CHAT, USER, second.token, now)
        assert lookup.flow is not None and lookup.flow.data == {"a": 1}
        # Another user, chat or kind has no flow of its own.
        assert (await flows.current(session, KIND, CHAT, CHAT_FLOW, now)).flow is None
        registration = FlowKind.REGISTRATION
        assert (await flows.current(session, registration, CHAT, USER, now)).flow is None


async def test_advance_merges_data_and_renews_the_expiry(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        flow = await flows.start(session, KIND, CHAT, USER, now, step="pick", data={"key": "x"})
    later = now + TTL[KIND] - timedelta(minutes=1)
    async with sessions.begin() as session:
        flow = await flows.advance(session, flow, later, step="when", data={"audience": "all"})
    assert flow.step == "when" and flow.data == {"key": "x", "audience": "all"}
    assert flow.expires_at == later + TTL[KIND]
    async with sessions() as session:
        lookup = await flows.current(
            session, KIND, CHAT, USER, now + TTL[KIND] + timedelta(minutes=1)
        )
    assert lookup.found is Found.CURRENT


async def test_an_untouched_flow_expires_then_is_forgotten(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        flow = await flows.start(session, KIND, CHAT, USER, now, step="text")
    expired = now + TTL[KIND]
    async with sessions() as session:
        lookup = await flows.find(session, KIND, CHAT, USER, flow.token, expired)
    assert lookup.found is Found.EXPIRED and lookup.flow is not None
    async with sessions.begin() as session:
        assert await flows.purge_expired(session, expired, keep=timedelta(days=1)) == 0
        assert (
            await flows.purge_expired(session, expired + timedelta(days=2), keep=timedelta(days=1))
            == 1
        )
    async with sessions() as session:
        assert (
            await flows.find(session, KIND, CHAT, USER, flow.token, expired)
        ).found is Found.STALE


async def test_a_replaced_flow_cannot_advance_and_end_closes_it(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        old = await flows.start(session, KIND, CHAT, USER, now, step="pick")
        await flows.start(session, KIND, CHAT, USER, now, step="pick")
        with pytest.raises(LookupError):
            await flows.advance(session, old, now, step="when")
    async with sessions.begin() as session:
        await flows.start(session, FlowKind.REGISTRATION, CHAT, CHAT_FLOW, now, step="k")
        await flows.end(session, KIND, CHAT, USER)
    async with sessions.begin() as session:
        assert (await flows.current(session, KIND, CHAT, USER, now)).flow is None
        assert (await flows.current(session, FlowKind.REGISTRATION, CHAT, 0, now)).flow is not None
        await flows.end_all_in(session, CHAT)
    async with sessions() as session:
        assert (await flows.current(session, FlowKind.REGISTRATION, CHAT, 0, now)).flow is None


async def test_the_migrations_build_exactly_the_models(
    storage: tuple[AsyncEngine, SessionFactory],
) -> None:
    engine, _ = storage

    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []
