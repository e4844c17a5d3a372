"""An admin request that lapsed is marked expired for good (issue 10: the mark was written in
the transaction the refusal rolled back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from db.models import AuditEntry, OfficialRequest, OfficialRole, RequestStatus
from tests.authority_fixtures import seed_official
from tests.e2e.harness import running_kentongan

BEFORE_MASA_TENANG = datetime(2024, 11, 22, 2, 0, tzinfo=UTC)
CITY_ADMIN = 960001


async def test_a_lapsed_request_stays_expired(tmp_path: Path) -> None:
    async with running_kentongan(tmp_path, now=BEFORE_MASA_TENANG) as h:
        async with h.services.sessions.begin() as session:
            await seed_official(session, CITY_ADMIN, OfficialRole.ADMIN, h.clock.now())
        city = h.world.add_user("Admin Kota", user_id=CITY_ADMIN, started=True)
        await h.say(city, "/petugas tambah 5550009 admin 35.73.05")
        async with h.services.sessions() as session:
            request = await session.scalar(select(OfficialRequest))
        assert request is not None and request.status is RequestStatus.PENDING

        h.clock.advance(timedelta(days=4))  # past the 72 hours a request waits
        root = h.admin()
        reply = await h.say(root, f"/petugas setujui {request.id}")
        assert "kedaluwarsa" in (reply.text or "")
        async with h.services.sessions() as session:
            stored = await session.get(OfficialRequest, request.id)
            marks = (
                await session.scalars(
                    select(AuditEntry.target).where(AuditEntry.action == "official.request_expire")
                )
            ).all()
        assert stored is not None and stored.status is RequestStatus.EXPIRED
        assert stored.decided_at == h.clock.now()
        assert marks == [f"request:{request.id}"]
        again = await h.say(root, f"/petugas tolak {request.id}")
        assert "kedaluwarsa" in (again.text or "")
        listing = await h.say(root, "/petugas permintaan")
        assert f"#{request.id}" not in (listing.text or "")
