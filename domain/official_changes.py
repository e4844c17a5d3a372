"""Changing who the officials are: added, moved or removed at once, or through a pending
request a second admin approves (the two-person rule; see ``domain.officials`` for who may).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Official, OfficialRequest, OfficialRole, RequestAction, RequestStatus
from domain.audit import audit
from domain.errors import PermissionDenied
from domain.officials import (
    DEFAULT_APPROVER_MIN_AGE,
    Actor,
    as_actor,
    check_change,
    fresh_actor,
    needs_second_admin,
    old_enough,
    scope_contains,
    scope_label,
    scope_of,
    set_scope,
)

# A pending request for a new approver lapses after this long.
REQUEST_VALIDITY = timedelta(hours=72)
ROLE_LABEL = {OfficialRole.ADMIN: "admin", OfficialRole.OPERATOR: "operator"}


class ApprovalRequired(PermissionDenied):
    """The change was stored as a pending request; the message tells who approves it and how.

    ``request_id`` is the request's id."""

    request_id: int = 0


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
            await _check_approver(session, as_actor(official), request, target, now, None)
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
    await check_change(session, actor, target, user_id, role, kecamatan_code)
    if not needs_second_admin(target, role):
        return _apply(
            session, actor.user_id, None, target, user_id, role, kecamatan_code, now, name
        )
    request = OfficialRequest(
        action=RequestAction.GRANT if role is not None else RequestAction.REMOVE,
        user_id=user_id,
        role=role,
        name=name,
        requested_by=actor.user_id,
        requested_at=now,
        status=RequestStatus.PENDING,
    )
    set_scope(request, kecamatan_code if role is not None else None)
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
        assert target is not None  # check_change refused removing a non-official
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
    set_scope(official, scope)
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
    if target is not None and target.active and not scope_contains(actor.scope, scope_of(target)):
        raise PermissionDenied.of("otoritas.petugas.di_luar_wilayah", user_id=request.user_id)
    if request.role is not None and not scope_contains(actor.scope, scope_of(request)):
        raise PermissionDenied.of(
            "otoritas.petugas.wilayah_di_luar", wilayah=scope_label(scope_of(request))
        )


async def expire_requests(session: AsyncSession, now: datetime) -> int:
    """Mark every pending request older than REQUEST_VALIDITY expired (audited); how many.

    Callers run it in a transaction of its own before a decision: a refusal rolls the
    decision's transaction back, and with it any mark written there."""
    lapsed = (
        await session.scalars(
            select(OfficialRequest).where(
                OfficialRequest.status == RequestStatus.PENDING,
                OfficialRequest.requested_at < now - REQUEST_VALIDITY,
            )
        )
    ).all()
    for request in lapsed:
        request.status = RequestStatus.EXPIRED
        request.decided_at = now
        audit(session, now, None, "official.request_expire", f"request:{request.id}")
    return len(lapsed)


async def _pending(session: AsyncSession, request_id: int, now: datetime) -> OfficialRequest:
    request = await session.get(OfficialRequest, request_id)
    if request is None or request.status not in (RequestStatus.PENDING, RequestStatus.EXPIRED):
        raise PermissionDenied.of("otoritas.petugas.permintaan_tidak_ada", request_id=request_id)
    # Refused without writing: the mark is expire_requests' (this transaction rolls back).
    if request.status is RequestStatus.EXPIRED or now - request.requested_at > REQUEST_VALIDITY:
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
        scope_of(request),
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
        await check_change(session, actor, target, request.user_id, request.role, scope_of(request))
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
        or (viewer.is_admin and scope_contains(viewer.scope, scope_of(r)))
    ]
