"""How many groups the next broadcast reaches, by the latest pre-flight run, and why not the rest.

`reach(session, audience)` is what a `/siaran` preview shows before an official confirms;
`reach_text` renders it from the message library:

    Siaran berikutnya menjangkau 412 dari 430 grup; 9 bot dikeluarkan, 3 pindah ke supergrup
    (sudah diperbarui), 6 tidak boleh mengirim pesan.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Group, Kecamatan, Kelurahan, PreflightCheck, ReachOutcome
from domain.places import area_label
from election.profile import ElectionProfile
from messages.render import render
from messages.telegram_html import telegram_length
from scheduler.audience import Audience


@dataclass(frozen=True)
class Problem:
    """A group the next broadcast will not reach, or that moved, for the per-kelurahan list."""

    kecamatan: str
    kelurahan: str
    title: str
    area: str
    outcome: ReachOutcome
    migrated: bool


@dataclass(frozen=True)
class Reach:
    """How many of an audience's groups the next broadcast reaches, by the latest pre-flight."""

    run_at: datetime | None
    total: int
    reachable: int
    lost: Counter[ReachOutcome]
    migrated: int
    unchecked: int  # registered after the latest run (counted as reachable)
    problems: list[Problem]


async def latest_run_at(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.max(PreflightCheck.run_at)))


async def reach(session: AsyncSession, audience: Audience | None = None) -> Reach:
    """For a `/siaran` preview: the audience's groups, reachable or not, by the latest run.

    Groups the latest run deactivated (bot kicked, chat gone) still count in the total, so the
    preview says why they are missing; a group registered since the run counts as reachable.
    """
    audience = audience or Audience()
    run_at = await latest_run_at(session)
    now_ids = set(
        (await session.scalars(audience.groups_query().with_only_columns(Group.id))).all()
    )
    checks: list[tuple[PreflightCheck, Group, str, str]] = []
    if run_at is not None:
        query = (
            select(PreflightCheck, Group, Kelurahan.name, Kecamatan.name)
            .join(Group, PreflightCheck.group_id == Group.id)
            .outerjoin(Kelurahan, Group.kelurahan_code == Kelurahan.code)
            .outerjoin(Kecamatan, Kelurahan.kecamatan_code == Kecamatan.code)
            .where(PreflightCheck.run_at == run_at, Group.subscribed.is_(True))
            .order_by(Kecamatan.name, Kelurahan.name, Group.rw, Group.rt, Group.id)
        )
        if audience.kelurahan_code:
            query = query.where(Group.kelurahan_code == audience.kelurahan_code)
        elif audience.kecamatan_code:
            query = query.where(Kelurahan.kecamatan_code == audience.kecamatan_code)
        if audience.level:
            query = query.where(Group.level == audience.level)
        rows = (await session.execute(query)).all()
        checks = [(c, g, kel or "", kec or "") for c, g, kel, kec in rows]
    checked = {g.id for _, g, _, _ in checks}
    lost: Counter[ReachOutcome] = Counter()
    problems: list[Problem] = []
    migrated = reachable = 0
    for check, group, kelurahan, kecamatan in checks:
        if audience.unacked_of is not None and group.id not in now_ids:
            continue
        moved = check.migrated_from_chat_id is not None
        migrated += moved
        ok = check.outcome is ReachOutcome.OK and group.id in now_ids
        outcome = check.outcome
        if ok:
            reachable += 1
        else:
            if outcome is ReachOutcome.OK:
                # Fine at the check but inactive now: the engine saw the bot leave since.
                outcome = ReachOutcome.LEFT
            lost[outcome] += 1
        if moved or not ok:
            area = area_label(group.rw, group.rt) if group.rw is not None else ""
            problems.append(Problem(kecamatan, kelurahan, group.title, area, outcome, moved))
    unchecked = len(now_ids - checked)
    total = reachable + sum(lost.values()) + unchecked
    return Reach(run_at, total, reachable + unchecked, lost, migrated, unchecked, problems)


def by_kelurahan(problems: Iterable[Problem]) -> dict[tuple[str, str], list[Problem]]:
    grouped: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        grouped.setdefault((p.kecamatan, p.kelurahan), []).append(p)
    return grouped


# The order officials read the reasons in: what they can fix first.
ORDER = (
    ReachOutcome.KICKED,
    ReachOutcome.LEFT,
    ReachOutcome.CANNOT_SEND,
    ReachOutcome.NOT_FOUND,
    ReachOutcome.UNKNOWN,
)


def _label(profile: ElectionProfile, now: datetime, name: str) -> str:
    return render(f"sistem.preflight.{name}", profile, now)


def reach_line(reach: Reach, profile: ElectionProfile, now: datetime) -> str:
    """One line (HTML): 'Siaran berikutnya menjangkau 412 dari 430 grup; 9 bot dikeluarkan, …'."""
    if reach.run_at is None:
        return render("sistem.preflight.belum_diperiksa", profile, now, {"total": reach.total})
    parts = [f"{reach.lost[o]} {_label(profile, now, o.value)}" for o in ORDER if reach.lost[o]]
    if reach.migrated:
        parts.insert(1, f"{reach.migrated} {_label(profile, now, 'migrated')}")
    if reach.unchecked:
        parts.append(f"{reach.unchecked} {_label(profile, now, 'unchecked')}")
    local = reach.run_at.astimezone(profile.tz)
    return render(
        "sistem.preflight.jangkauan",
        profile,
        now,
        {
            "reachable": reach.reachable,
            "total": reach.total,
            "details": ("; " + ", ".join(parts)) if parts else "",
            "checked_at": f"{local:%d/%m %H.%M} {profile.timezone_label}",
        },
    )


# Below Telegram's 4096 characters a message, with room for a title above the text.
MAX_LENGTH = 3800


def reach_text(
    reach: Reach, profile: ElectionProfile, now: datetime, limit: int = 40, *, fit: bool = True
) -> str:
    """The line and the list per kelurahan (HTML), at most `limit` groups listed — fewer when
    the text would not fit in one Telegram message (`fit`; the shell prints everything)."""
    text = _reach_text(reach, profile, now, limit)
    while fit and limit > 0 and telegram_length(text) > MAX_LENGTH:
        limit //= 2
        text = _reach_text(reach, profile, now, limit)
    return text


def _reach_text(reach: Reach, profile: ElectionProfile, now: datetime, limit: int) -> str:
    lines = [reach_line(reach, profile, now)]
    grouped = by_kelurahan(reach.problems)
    shown = 0
    for (kecamatan, kelurahan), problems in grouped.items():
        if shown >= limit:
            rest = sum(len(p) for p in grouped.values()) - shown
            lines.append(render("sistem.preflight.lainnya", profile, now, {"n": rest}))
            break
        lines.append(f"\n<b>{html.escape(kelurahan or '—')}</b> ({html.escape(kecamatan or '—')})")
        for p in problems:
            reasons = [_label(profile, now, "migrated")] if p.migrated else []
            if p.outcome is not ReachOutcome.OK:
                reasons.append(_label(profile, now, p.outcome.value))
            what = ", ".join(reasons)
            where = f"{p.area} · " if p.area else ""
            lines.append(f"• {html.escape(where + p.title)} — {html.escape(what)}")
            shown += 1
    return "\n".join(lines)
