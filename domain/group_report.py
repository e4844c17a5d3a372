"""What officials read about group coverage (/grup): Telegram HTML built from the domain.

An official limited to a kecamatan or kelurahan (`scope`) sees only that area, named by
`domain.places.scope_name`.
"""

from __future__ import annotations

import html

from sqlalchemy.ext.asyncio import AsyncSession

from domain.places import load_regions, place, scope_name
from domain.regions import match_kelurahan
from domain.registered import GroupCount, group_counts, groups_in
from scheduler.audience import in_region


async def group_counts_text(session: AsyncSession, scope: str | None) -> str:
    """/grup: registered groups per kecamatan and kelurahan, and kelurahan still without one."""
    rows = await group_counts(session, scope)
    by_kecamatan: dict[str, list[GroupCount]] = {}
    for row in rows:
        by_kecamatan.setdefault(row.where.kecamatan, []).append(row)
    total = sum(r.total for r in rows)
    title = await scope_name(session, scope) if scope else "Kota Malang"
    out = [f"🏘️ <b>Grup terdaftar — {html.escape(title)}</b>: {total} grup"]
    empty: list[str] = []
    for kecamatan, items in by_kecamatan.items():
        rw = sum(i.rw_groups for i in items)
        rt = sum(i.rt_groups for i in items)
        covered = [i for i in items if i.total]
        out.append(
            f"\n<b>Kec. {html.escape(kecamatan)}</b>: {rw + rt} grup (RW {rw}, RT {rt}); "
            f"{len(covered)} dari {len(items)} kelurahan"
        )
        out += [
            f"• {html.escape(i.where.name)}: RW {i.rw_groups}, RT {i.rt_groups}" for i in covered
        ]
        missing = [i.where.name for i in items if not i.total]
        if missing:
            empty.append(f"Kec. {html.escape(kecamatan)}: {html.escape(', '.join(missing))}")
    if empty:
        count = sum(1 for r in rows if not r.total)
        out.append(f"\n⚠️ <b>Kelurahan tanpa grup terdaftar ({count})</b>")
        out += empty
    out.append("\nRincian satu kelurahan: <code>/grup NAMA_KELURAHAN</code>")
    return "\n".join(out)


async def kelurahan_text(session: AsyncSession, typed: str, scope: str | None) -> str:
    """/grup <kelurahan>: every group ever registered there, with its state."""
    regions = await load_regions(session)
    if scope:
        regions = [r for r in regions if in_region(r.code, scope)]
    matches = match_kelurahan(typed[:80], regions)
    if not matches:
        within = f" di {await scope_name(session, scope)}" if scope else " di Kota Malang"
        return f"Kelurahan “{html.escape(typed[:40])}” tidak ditemukan{within}."
    if len(matches) > 1:
        names = ", ".join(html.escape(m.name) for m in matches)
        return f"Maksud Anda yang mana: {names}? Tulis nama kelurahannya lebih lengkap."
    where = await place(session, matches[0].code)
    assert where is not None
    groups = await groups_in(session, where.code)
    head = f"🏘️ <b>Kelurahan {html.escape(where.name)}</b>, Kecamatan {html.escape(where.kecamatan)}"
    if not groups:
        return head + "\nBelum ada grup yang pernah terdaftar."
    registered = sum(1 for g in groups if g.subscribed and g.active)
    out = [head + f": {registered} grup terdaftar"]
    for g in groups:
        area = g.registration.area if g.registration else "?"
        state = (
            "terdaftar"
            if g.subscribed and g.active
            else "bot dikeluarkan"
            if not g.active
            else "berhenti"
        )
        out.append(f"• {area} — {html.escape(g.title or str(g.chat_id))} ({state})")
    return "\n".join(out)
