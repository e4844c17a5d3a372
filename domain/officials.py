"""Officials and what each may do: admins approve and send, operators draft.

Authority has no single point of abuse:

- **Root admins** are the ``ADMIN_IDS`` of the configuration, re-asserted at every start
  (``assert_root_admins``): no operation here demotes, re-scopes or removes one.
- An official acts only on officials **below** them: a narrower scope inside their own (city >
  kecamatan > kelurahan; a scope is a region code, so a kelurahan level is a code with one more
  part), or the same scope and a lower role (admin > operator). Root admins are above everyone,
  so only they add city-wide admins. Nobody changes their own role.
- Whatever makes someone an approver (admin), changes an approver, or removes one is a
  **pending request** a second admin must approve (``domain.official_changes``); only changes to
  operators apply at once. Whoever approves must be an admin whose scope holds the change, must
  not be its author or its subject, must not have been added or proposed by its author, and
  must have been an approver for the profile's minimum age (root admins exempt).
  A root admin with no other admin able to approve applies it directly (a fresh install).
- A new approver records when (``approver_since``) and on whose proposal
  (``approver_proposed_by``): see ``domain.broadcasts.approve`` for what that forbids.

Every refusal is a ``PermissionDenied`` carrying an Indonesian message from the library
(``messages/library/authority.toml``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Kecamatan, Kelurahan, Official, OfficialRequest, OfficialRole
from domain.audit import audit
from domain.errors import PermissionDenied
from scheduler.audience import is_kelurahan_code

__all__ = [
    "DEFAULT_APPROVER_MIN_AGE",
    "Actor",
    "OfficialsPage",
    "PermissionDenied",
    "as_actor",
    "assert_root_admins",
    "check_change",
    "find_actor",
    "fresh_actor",
    "list_officials",
    "list_officials_page",
    "needs_second_admin",
    "old_enough",
    "outranks",
    "require_actor",
    "scope_contains",
    "scope_label",
    "scope_of",
    "set_scope",
]

# Used when the election profile does not say (``[neutrality] approver_min_age_hours``).
DEFAULT_APPROVER_MIN_AGE = timedelta(hours=24)
_RANK = {OfficialRole.OPERATOR: 1, OfficialRole.ADMIN: 2}


@dataclass(frozen=True)
class Actor:
    """An official as the domain sees them: plain data, no ORM row."""

    user_id: int
    role: OfficialRole
    kecamatan_code: str | None
    root: bool = False
    added_by: int | None = None
    added_at: datetime | None = None
    approver_since: datetime | None = None
    approver_proposed_by: int | None = None
    # A lurah's staff: one kelurahan (of kecamatan_code). Scoped code should use `scope`.
    kelurahan_code: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is OfficialRole.ADMIN

    @property
    def citywide(self) -> bool:
        return self.kecamatan_code is None

    @property
    def scope(self) -> str | None:
        """The region code this official is limited to (None: the whole city): a kelurahan
        code for a lurah, else a kecamatan code."""
        return self.kelurahan_code or self.kecamatan_code


def as_actor(official: Official) -> Actor:
    return Actor(
        official.user_id,
        official.role,
        official.kecamatan_code,
        root=official.root,
        added_by=official.added_by,
        added_at=official.added_at,
        approver_since=official.approver_since,
        approver_proposed_by=official.approver_proposed_by,
        kelurahan_code=official.kelurahan_code,
    )


async def find_actor(session: AsyncSession, user_id: int) -> Actor | None:
    official = await session.get(Official, user_id)
    if official is None or not official.active:
        return None
    return as_actor(official)


async def fresh_actor(session: AsyncSession, actor: Actor) -> Actor:
    """The actor as the database has them now (role, scope, provenance): authority is read from
    the source of truth, never from a copy a handler kept."""
    current = await find_actor(session, actor.user_id)
    if current is None:
        raise PermissionDenied.of("otoritas.petugas.tidak_ditemukan", user_id=actor.user_id)
    return current


async def require_actor(session: AsyncSession, user_id: int) -> Actor:
    actor = await find_actor(session, user_id)
    if actor is None:
        raise PermissionDenied(
            "Perintah ini hanya untuk petugas Pemkot yang terdaftar. "
            "Hubungi Bagian Pemerintahan bila Anda petugas."
        )
    return actor


# --- scope and rank ------------------------------------------------------------------------------


def scope_contains(outer: str | None, inner: str | None) -> bool:
    """Whether scope ``inner`` lies inside ``outer`` (None is the whole city; a kelurahan code
    35.73.02.1008 lies inside kecamatan 35.73.02)."""
    if outer is None:
        return True
    if inner is None:
        return False
    return inner == outer or inner.startswith(outer + ".")


def outranks(
    actor: Actor, role: OfficialRole, scope: str | None, *, target_root: bool = False
) -> bool:
    """Whether ``actor`` stands above an official with this role and scope."""
    if target_root:
        return False
    if actor.root:
        return True
    if not actor.is_admin or not scope_contains(actor.scope, scope):
        return False
    if actor.scope != scope:
        return True  # strictly inside: a city admin over a kecamatan admin
    return _RANK[actor.role] > _RANK[role]


def scope_label(scope: str | None) -> str:
    return scope or "se-kota"


def scope_of(row: Official | OfficialRequest) -> str | None:
    """The region code a row is limited to: its kelurahan (a lurah), its kecamatan, or None."""
    return row.kelurahan_code or row.kecamatan_code


def set_scope(row: Official | OfficialRequest, scope: str | None) -> None:
    """Store a scope: a kelurahan code also records its kecamatan (35.73.05.1005 → 35.73.05),
    so every kecamatan-wide query sees the lurah's staff as part of the kecamatan."""
    if is_kelurahan_code(scope):
        assert scope is not None
        row.kecamatan_code, row.kelurahan_code = scope.rsplit(".", 1)[0], scope
    else:
        row.kecamatan_code, row.kelurahan_code = scope, None


async def _known_scope(session: AsyncSession, scope: str) -> bool:
    if is_kelurahan_code(scope):
        return await session.get(Kelurahan, scope) is not None
    return await session.get(Kecamatan, scope) is not None


async def check_change(
    session: AsyncSession,
    actor: Actor,
    target: Official | None,
    user_id: int,
    role: OfficialRole | None,
    scope: str | None,
) -> None:
    """Refuse unless ``actor`` may move official ``user_id`` (row ``target``) to role/scope
    (role None: remove)."""
    if not actor.is_admin:
        raise PermissionDenied.of("otoritas.petugas.bukan_admin")
    if user_id == actor.user_id:
        raise PermissionDenied.of("otoritas.petugas.diri_sendiri")
    if target is not None and target.root:
        raise PermissionDenied.of("otoritas.petugas.admin_utama", user_id=user_id)
    if target is not None and target.active:
        if not scope_contains(actor.scope, scope_of(target)):
            raise PermissionDenied.of("otoritas.petugas.di_luar_wilayah", user_id=user_id)
        if not outranks(actor, target.role, scope_of(target)):
            raise PermissionDenied.of("otoritas.petugas.tidak_di_bawah", user_id=user_id)
    elif role is None:
        raise PermissionDenied.of("otoritas.petugas.tidak_ditemukan", user_id=user_id)
    if role is None:
        return
    if scope is not None and not await _known_scope(session, scope):
        raise PermissionDenied.of("otoritas.petugas.wilayah_tidak_dikenal", wilayah=scope)
    if not scope_contains(actor.scope, scope):
        raise PermissionDenied.of("otoritas.petugas.wilayah_di_luar", wilayah=scope_label(scope))
    if not outranks(actor, role, scope):
        raise PermissionDenied.of("otoritas.petugas.tidak_di_bawah", user_id=user_id)


def needs_second_admin(target: Official | None, role: OfficialRole | None) -> bool:
    """Granting, changing or removing approval power needs a second admin."""
    currently_admin = target is not None and target.active and target.role is OfficialRole.ADMIN
    return role is OfficialRole.ADMIN or currently_admin


# --- root admins ---------------------------------------------------------------------------------


async def assert_root_admins(
    session: AsyncSession, admin_ids: Iterable[int], now: datetime
) -> list[int]:
    """Make every id of ADMIN_IDS an active city-wide root admin (restoring a demoted, moved or
    removed one); an official no longer in ADMIN_IDS stops being root but stays an admin.
    Returns the ids that were created or restored. Call at every start."""
    wanted = set(admin_ids)
    changed: list[int] = []
    for user_id in sorted(wanted):
        official = await session.get(Official, user_id)
        if official is None:
            session.add(
                Official(
                    user_id=user_id,
                    role=OfficialRole.ADMIN,
                    kecamatan_code=None,
                    active=True,
                    added_at=now,
                    name="",
                    root=True,
                    approver_since=now,
                )
            )
            changed.append(user_id)
            continue
        if (
            official.root
            and official.active
            and official.role is OfficialRole.ADMIN
            and official.kecamatan_code is None
            and official.kelurahan_code is None
        ):
            continue
        audit(
            session,
            now,
            None,
            "official.root_restore",
            f"user:{user_id}",
            was_role=official.role.value,
            was_kecamatan=official.kecamatan_code,
            was_active=official.active,
        )
        if official.role is not OfficialRole.ADMIN or not official.active:
            official.approver_since = now
        official.role = OfficialRole.ADMIN
        official.kecamatan_code = None
        official.kelurahan_code = None
        official.active = True
        official.root = True
        changed.append(user_id)
    dropped = (
        await session.scalars(
            select(Official).where(Official.root.is_(True), Official.user_id.not_in(wanted))
        )
    ).all()
    for official in dropped:
        official.root = False
        audit(session, now, None, "official.root_dropped", f"user:{official.user_id}")
    await session.flush()
    return changed


def old_enough(actor: Actor, now: datetime, age: timedelta) -> bool:
    """Official and approver for at least ``age`` (a fresh second account is not a second
    person)."""
    dates = [d for d in (actor.added_at, actor.approver_since) if d is not None]
    return bool(dates) and now - max(dates) >= age


# --- listing -------------------------------------------------------------------------------------


async def list_officials(session: AsyncSession) -> list[Official]:
    return list((await session.scalars(select(Official).where(Official.active.is_(True)))).all())


@dataclass(frozen=True)
class OfficialsPage:
    rows: list[Official]
    page: int  # 1-based, clamped to the pages there are
    pages: int
    total: int


async def list_officials_page(
    session: AsyncSession, viewer: Actor, page: int = 1, per_page: int = 20
) -> OfficialsPage:
    """Active officials the viewer may see — the whole city for a city-wide official, their own
    scope (and themselves) otherwise — root admins first, then by scope and id."""
    query = select(Official).where(Official.active.is_(True))
    if viewer.kelurahan_code is not None:
        query = query.where(
            or_(
                Official.kelurahan_code == viewer.kelurahan_code,
                Official.user_id == viewer.user_id,
            )
        )
    elif viewer.scope is not None:
        query = query.where(
            or_(
                Official.kecamatan_code == viewer.scope,
                Official.kecamatan_code.like(viewer.scope + ".%"),
                Official.user_id == viewer.user_id,
            )
        )
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    pages = max(1, ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = (
        await session.scalars(
            query.order_by(
                Official.root.desc(),
                Official.kecamatan_code.is_not(None),
                Official.kecamatan_code,
                Official.kelurahan_code.is_not(None),
                Official.kelurahan_code,
                Official.user_id,
            )
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    ).all()
    return OfficialsPage(list(rows), page, pages, total)
