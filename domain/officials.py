"""Officials and what each may do: admins approve and send, operators draft.

Authority has no single point of abuse:

- **Root admins** are the ``ADMIN_IDS`` of the configuration, re-asserted at every start
  (``assert_root_admins``): no operation here demotes, re-scopes or removes one.
- An official acts only on officials **below** them: a narrower scope inside their own (city >
  kecamatan > kelurahan; a scope is a region code, so a kelurahan level is a code with one more
  part), or the same scope and a lower role (admin > operator). Root admins are above everyone,
  so only they add city-wide admins. Nobody changes their own role.
- Whatever makes someone an approver (admin), changes an approver, or removes one is a
  **pending request** a second admin must approve (``approve_request``); only changes to
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

from db.models import (
    Kecamatan,
    Official,
    OfficialRequest,
    OfficialRole,
    RequestAction,
    RequestStatus,
)
from domain.audit import audit
from domain.errors import PermissionDenied

__all__ = [
    "DEFAULT_APPROVER_MIN_AGE",
    "REQUEST_VALIDITY",
    "Actor",
    "ApprovalRequired",
    "OfficialsPage",
    "PermissionDenied",
    "add_official",
    "approve_request",
    "assert_root_admins",
    "find_actor",
    "fresh_actor",
    "list_officials",
    "list_officials_page",
    "old_enough",
    "outranks",
    "pending_requests",
    "reject_request",
    "remove_official",
    "request_change",
    "require_actor",
    "scope_contains",
]

# Used when the election profile does not say (``[neutrality] approver_min_age_hours``).
DEFAULT_APPROVER_MIN_AGE = timedelta(hours=24)
# A pending request for a new approver lapses after this long.
REQUEST_VALIDITY = timedelta(hours=72)
_RANK = {OfficialRole.OPERATOR: 1, OfficialRole.ADMIN: 2}
ROLE_LABEL = {OfficialRole.ADMIN: "admin", OfficialRole.OPERATOR: "operator"}


class ApprovalRequired(PermissionDenied):
    """The change was stored as a pending request; the message tells who approves it and how.

    ``request_id`` is the request's id."""

    request_id: int = 0


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

    @property
    def is_admin(self) -> bool:
        return self.role is OfficialRole.ADMIN

    @property
    def citywide(self) -> bool:
        return self.kecamatan_code is None

    @property
    def scope(self) -> str | None:
        """The region code this official is limited to (None: the whole city)."""
        return self.kecamatan_code


def _actor(official: Official) -> Actor:
    return Actor(
        official.user_id,
        official.role,
        official.kecamatan_code,
        root=official.root,
        added_by=official.added_by,
        added_at=official.added_at,
        approver_since=official.approver_since,
        approver_proposed_by=official.approver_proposed_by,
    )


async def find_actor(session: AsyncSession, user_id: int) -> Actor | None:
    official = await session.get(Official, user_id)
    if official is None or not official.active:
        return None
    return _actor(official)


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


def _label(scope: str | None) -> str:
    return scope or "se-kota"


async def _check_change(
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
        if not scope_contains(actor.scope, target.kecamatan_code):
            raise PermissionDenied.of("otoritas.petugas.di_luar_wilayah", user_id=user_id)
        if not outranks(actor, target.role, target.kecamatan_code):
            raise PermissionDenied.of("otoritas.petugas.tidak_di_bawah", user_id=user_id)
    elif role is None:
        raise PermissionDenied.of("otoritas.petugas.tidak_ditemukan", user_id=user_id)
    if role is None:
        return
    if scope is not None and await session.get(Kecamatan, scope) is None:
        raise PermissionDenied.of("otoritas.petugas.wilayah_tidak_dikenal", wilayah=scope)
    if not scope_contains(actor.scope, scope):
        raise PermissionDenied.of("otoritas.petugas.wilayah_di_luar", wilayah=_label(scope))
    if not outranks(actor, role, scope):
        raise PermissionDenied.of("otoritas.petugas.tidak_di_bawah", user_id=user_id)


def _needs_second_admin(target: Official | None, role: OfficialRole | None) -> bool:
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


# --- changes -------------------------------------------------------------------------------------


async def _eligible_approver_exists(
    session: AsyncSession, request: OfficialRequest, target: Official | None, now: datetime
) -> bool:
    admins = (
        await session.scalars(
            select(Official).where(
                Official.active.is_(True),
                Official.role == OfficialRole.ADMIN,
                Official.user_id != request.requested_by,
                Official.user_id != request.user_id,
            )
        )
    ).all()
    for official in admins:
        try:
            await _check_approver(session, _actor(official), request, target, now, None)
        except PermissionDenied:
            continue
        return True
    return False


async def request_change(
    session: AsyncSession,
    actor: Actor,
    user_id: int,
    role: OfficialRole | None,
    kecamatan_code: str | None,
    now: datetime,
    name: str = "",
) -> Official | OfficialRequest:
    """Add, change (role is the new role) or remove (role None) an official.

    Returns the changed Official when it applies at once, or the pending OfficialRequest when a
    second admin must approve it. Raises PermissionDenied with the reason otherwise."""
    actor = await fresh_actor(session, actor)
    target = await session.get(Official, user_id)
    await _check_change(session, actor, target, user_id, role, kecamatan_code)
    if not _needs_second_admin(target, role):
        return _apply(
            session, actor.user_id, None, target, user_id, role, kecamatan_code, now, name
        )
    request = OfficialRequest(
        action=RequestAction.GRANT if role is not None else RequestAction.REMOVE,
        user_id=user_id,
        role=role,
        kecamatan_code=kecamatan_code if role is not None else None,
        name=name,
        requested_by=actor.user_id,
        requested_at=now,
        status=RequestStatus.PENDING,
    )
    session.add(request)
    await session.flush()
    if actor.root and not await _eligible_approver_exists(session, request, target, now):
        # A root admin alone (a fresh install): nobody else could ever approve.
        request.status = RequestStatus.APPROVED
        request.decided_by = actor.user_id
        request.decided_at = now
        audit(session, now, actor.user_id, "official.request_auto", f"request:{request.id}")
        return _apply(
            session, actor.user_id, actor.user_id, target, user_id, role, kecamatan_code, now, name
        )
    audit(
        session,
        now,
        actor.user_id,
        "official.request",
        f"user:{user_id}",
        request=request.id,
        change=request.action.value,
        role=role.value if role else None,
        kecamatan=kecamatan_code,
    )
    return request


def _apply(
    session: AsyncSession,
    proposer: int,
    confirmer: int | None,
    target: Official | None,
    user_id: int,
    role: OfficialRole | None,
    scope: str | None,
    now: datetime,
    name: str,
) -> Official:
    if role is None:
        assert target is not None  # _check_change refused removing a non-official
        target.active = False
        target.approver_since = None
        audit(session, now, proposer, "official.remove", f"user:{user_id}", confirmed_by=confirmer)
        return target
    official = target
    if official is None:
        official = Official(user_id=user_id, added_at=now, added_by=proposer, role=role, name="")
        session.add(official)
    elif not official.active:
        official.added_at = now  # re-added: counts as new
        official.added_by = proposer
    was_approver = official.active and official.role is OfficialRole.ADMIN and target is not None
    if role is OfficialRole.ADMIN and not was_approver:
        official.approver_since = now
        official.approver_proposed_by = proposer
    elif role is not OfficialRole.ADMIN:
        official.approver_since = None
        official.approver_proposed_by = None
    official.role = role
    official.kecamatan_code = scope
    official.active = True
    official.name = name or official.name or ""
    audit(
        session,
        now,
        proposer,
        "official.add",
        f"user:{user_id}",
        role=role.value,
        kecamatan=scope,
        confirmed_by=confirmer,
    )
    return official


def _request_message(request: OfficialRequest) -> ApprovalRequired:
    role = ROLE_LABEL[request.role] if request.role else "bukan petugas lagi"
    error: ApprovalRequired = ApprovalRequired.of(
        "otoritas.petugas.tambah_admin_perlu_persetujuan",
        request_id=request.id,
        user_id=request.user_id,
        role=role,
    )
    error.request_id = request.id
    return error


async def add_official(
    session: AsyncSession,
    actor: Actor,
    user_id: int,
    role: OfficialRole,
    kecamatan_code: str | None,
    now: datetime,
    name: str = "",
) -> Official:
    """Add or change an official (the /petugas tambah of old handlers).

    Applies at once for operators; making someone an admin, or changing an admin, raises
    ApprovalRequired (a PermissionDenied whose message names the request and how a second admin
    approves it) after storing the pending request."""
    result = await request_change(session, actor, user_id, role, kecamatan_code, now, name)
    if isinstance(result, OfficialRequest):
        raise _request_message(result)
    await session.flush()
    return result


async def remove_official(
    session: AsyncSession, actor: Actor, user_id: int, now: datetime
) -> Official:
    """Remove an official (/petugas hapus ID), with the same rules as adding one: an operator at
    once, an admin through a second admin (ApprovalRequired)."""
    result = await request_change(session, actor, user_id, None, None, now)
    if isinstance(result, OfficialRequest):
        raise _request_message(result)
    await session.flush()
    return result


async def _check_approver(
    session: AsyncSession,
    actor: Actor,
    request: OfficialRequest,
    target: Official | None,
    now: datetime,
    min_age: timedelta | None,
) -> None:
    if not actor.is_admin:
        raise PermissionDenied.of("otoritas.petugas.bukan_admin")
    if actor.user_id in (request.requested_by, request.user_id) or request.requested_by in (
        actor.added_by,
        actor.approver_proposed_by,
    ):
        raise PermissionDenied.of("otoritas.petugas.permintaan_sendiri")
    if not actor.root:
        age = min_age if min_age is not None else DEFAULT_APPROVER_MIN_AGE
        if not old_enough(actor, now, age):
            raise PermissionDenied.of(
                "otoritas.siaran.penyetuju_baru", hours=int(age.total_seconds() // 3600)
            )
        if actor.approver_since is not None and request.requested_at < actor.approver_since:
            raise PermissionDenied.of("otoritas.petugas.permintaan_sendiri")
    # The approver confirms; the author needed the rank. The approver must still see the whole
    # change: the official's current place and the new one lie inside their scope.
    if target is not None and target.root:
        raise PermissionDenied.of("otoritas.petugas.admin_utama", user_id=request.user_id)
    if (
        target is not None
        and target.active
        and not scope_contains(actor.scope, target.kecamatan_code)
    ):
        raise PermissionDenied.of("otoritas.petugas.di_luar_wilayah", user_id=request.user_id)
    if request.role is not None and not scope_contains(actor.scope, request.kecamatan_code):
        raise PermissionDenied.of(
            "otoritas.petugas.wilayah_di_luar", wilayah=_label(request.kecamatan_code)
        )


def old_enough(actor: Actor, now: datetime, age: timedelta) -> bool:
    """Official and approver for at least ``age`` (a fresh second account is not a second
    person)."""
    dates = [d for d in (actor.added_at, actor.approver_since) if d is not None]
    return bool(dates) and now - max(dates) >= age


async def _pending(session: AsyncSession, request_id: int, now: datetime) -> OfficialRequest:
    request = await session.get(OfficialRequest, request_id)
    if request is None or request.status is not RequestStatus.PENDING:
        raise PermissionDenied.of("otoritas.petugas.permintaan_tidak_ada", request_id=request_id)
    if now - request.requested_at > REQUEST_VALIDITY:
        request.status = RequestStatus.EXPIRED
        request.decided_at = now
        raise PermissionDenied.of("otoritas.petugas.permintaan_kedaluwarsa", request_id=request_id)
    return request


async def approve_request(
    session: AsyncSession,
    actor: Actor,
    request_id: int,
    now: datetime,
    *,
    min_age: timedelta | None = None,
) -> Official:
    """A second admin approves a pending request (/petugas setujui ID); the change applies.

    ``min_age``: how long the approver must have been an official and an approver (the
    profile's ``approver_min_age_hours``; 24 h by default). Root admins are exempt."""
    actor = await fresh_actor(session, actor)
    request = await _pending(session, request_id, now)
    target = await session.get(Official, request.user_id)
    await _check_approver(session, actor, request, target, now, min_age)
    request.status = RequestStatus.APPROVED
    request.decided_by = actor.user_id
    request.decided_at = now
    audit(session, now, actor.user_id, "official.request_approve", f"request:{request.id}")
    official = _apply(
        session,
        request.requested_by,
        actor.user_id,
        target,
        request.user_id,
        request.role,
        request.kecamatan_code,
        now,
        request.name,
    )
    await session.flush()
    return official


async def reject_request(
    session: AsyncSession, actor: Actor, request_id: int, now: datetime
) -> OfficialRequest:
    """Refuse a pending request: its author may withdraw it, an admin who may make the change
    may reject it."""
    actor = await fresh_actor(session, actor)
    request = await _pending(session, request_id, now)
    if actor.user_id != request.requested_by:
        target = await session.get(Official, request.user_id)
        await _check_change(
            session, actor, target, request.user_id, request.role, request.kecamatan_code
        )
    request.status = RequestStatus.REJECTED
    request.decided_by = actor.user_id
    request.decided_at = now
    audit(session, now, actor.user_id, "official.request_reject", f"request:{request.id}")
    return request


async def pending_requests(
    session: AsyncSession, viewer: Actor, now: datetime
) -> list[OfficialRequest]:
    """Pending requests the viewer could approve or withdraw, oldest first."""
    rows = (
        await session.scalars(
            select(OfficialRequest)
            .where(
                OfficialRequest.status == RequestStatus.PENDING,
                OfficialRequest.requested_at >= now - REQUEST_VALIDITY,
            )
            .order_by(OfficialRequest.id)
        )
    ).all()
    return [
        r
        for r in rows
        if r.requested_by == viewer.user_id
        or (viewer.is_admin and scope_contains(viewer.scope, r.kecamatan_code))
    ]


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
    if viewer.scope is not None:
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
                Official.user_id,
            )
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    ).all()
    return OfficialsPage(list(rows), page, pages, total)
