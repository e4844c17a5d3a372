"""Reports as short Telegram HTML in Bahasa Indonesia: for the bot and for the shell."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from domain.broadcasts import STATUS_LABEL
from domain.coverage import KelurahanCoverage, NeighbourhoodCoverage
from domain.report_groups import GroupLine
from domain.reports import BroadcastInfo, BroadcastReport, Tally
from election.profile import ElectionProfile
from messages.context import format_day
from messages.telegram_html import escape, telegram_length

# Telegram's limit is 4096; a report that would pass it lists less and points to the CSV.
MAX_TEXT = 3800
# Up to this many kelurahan a report lists each; beyond, kecamatan and the lowest rates.
KELURAHAN_LINES = 20
LOWEST = 10


def when(dt: datetime | None, profile: ElectionProfile, *, day: bool = True) -> str:
    if dt is None:
        return "-"
    local = dt.astimezone(profile.tz)
    clock = f"{local:%H.%M} {profile.timezone_label}"
    return f"{format_day(local.date())} {clock}" if day else clock


def percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def _line(name: str, tally: Tally, *, bold: bool = False) -> str:
    label = f"<b>{escape(name)}</b>" if bold else escape(name)
    return (
        f"{label}: {tally.delivered}/{tally.targeted} · {tally.acknowledged} "
        f"({percent(tally.rate)}) · {tally.leader}"
    )


def broadcast_line(info: BroadcastInfo, profile: ElectionProfile) -> str:
    return f"#{info.id} {info.title} — {when(info.started_at or info.scheduled_at, profile)}"


def report_text(report: BroadcastReport, profile: ElectionProfile) -> str:
    info, total = report.broadcast, report.total
    lines = [
        f"📊 <b>Laporan siaran #{info.id}</b> — {escape(report.scope_name)}",
        f"<i>{escape(info.title)}</i>",
        f"Dikirim {when(info.started_at or info.scheduled_at, profile)} · "
        f"{STATUS_LABEL.get(info.status, info.status.value)}",
        "",
    ]
    if total.targeted == 0:
        lines.append("Siaran ini tidak dikirim ke grup mana pun di wilayah Anda.")
        return "\n".join(lines)
    summary = (
        f"<b>{total.targeted}</b> grup dituju · <b>{total.delivered}</b> terkirim · "
        f"<b>{total.failed}</b> gagal"
    )
    if total.other:
        summary += f" · {total.other} lainnya"
    lines += [
        summary,
        f"✅ Sudah dibaca: <b>{total.acknowledged}</b> grup ({percent(total.rate)})",
        f"👤 Ketua konfirmasi: <b>{total.leader}</b> grup ({percent(total.leader_rate)})",
    ]
    if report.follow_ups:
        times = ", ".join(when(f.started_at or f.scheduled_at, profile, day=False)
                          for f in report.follow_ups)  # fmt: skip
        lines.append(f"🔔 Pengingat dikirim {len(report.follow_ups)}× ({times})")
    lines += ["", "<i>terkirim/dituju · dibaca (persen) · ketua</i>"]
    kelurahan = report.kelurahan()
    if len(kelurahan) <= KELURAHAN_LINES:
        for kec in report.kecamatan:
            lines.append(_line(f"Kec. {kec.name}", kec.tally, bold=True))
            lines += [f"  {_line(kel.name, kel.tally)}" for kel in kec.kelurahan]
    else:
        lines += [_line(f"Kec. {kec.name}", kec.tally, bold=True) for kec in report.kecamatan]
        lowest = sorted(
            (kel for _, kel in kelurahan if kel.tally.delivered),
            key=lambda k: (k.tally.rate, -k.tally.delivered, k.name),
        )[:LOWEST]
        if lowest:
            lines += ["", "<b>Konfirmasi terendah</b>"]
            lines += [f"  {_line(kel.name, kel.tally)}" for kel in lowest]
    lines += [
        "",
        f"Rincian per grup ada di berkas CSV. Grup yang belum konfirmasi: /belum {info.id}",
    ]
    return _fit(lines)


def unacknowledged_text(
    report: BroadcastReport, lines: list[GroupLine], profile: ElectionProfile
) -> str:
    info = report.broadcast
    head = [
        f"🔕 <b>Belum konfirmasi — siaran #{info.id}</b> ({escape(report.scope_name)})",
        f"<i>{escape(info.title)}</i>",
        f"Dikirim {when(info.started_at or info.scheduled_at, profile)}",
        "",
    ]
    if not lines:
        if report.total.delivered:
            head.append("Semua grup yang menerima siaran ini sudah menandai sudah dibaca. 👍")
        else:
            head.append("Belum ada grup yang menerima siaran ini di wilayah Anda.")
        return "\n".join(head)
    head.append(
        f"<b>{len(lines)}</b> dari {report.total.delivered} grup penerima belum menekan "
        "✅ Sudah dibaca:"
    )
    by_kelurahan: dict[tuple[str, str], list[GroupLine]] = defaultdict(list)
    for line in lines:
        by_kelurahan[(line.kecamatan, line.kelurahan)].append(line)
    body: list[str] = []
    for (kecamatan, kelurahan), groups in by_kelurahan.items():
        places = ", ".join(escape(g.place) for g in groups)
        body.append(f"• <b>{escape(kelurahan)}</b> ({escape(kecamatan)}, {len(groups)}): {places}")
    tail = []
    if report.total.failed:
        tail.append(f"⚠️ {report.total.failed} grup gagal dikirimi; lihat /laporan {info.id}.")
    return _fit(head + body + (["", *tail] if tail else []))


def _fit(lines: list[str]) -> str:
    """Drop lines from the end of the body until the text fits, saying how many were left out."""
    text = "\n".join(lines)
    if telegram_length(text) <= MAX_TEXT:
        return text
    kept = list(lines)
    dropped = 0
    while kept and telegram_length("\n".join(kept)) > MAX_TEXT - 80:
        kept.pop()
        dropped += 1
    kept.append(f"… dan {dropped} baris lagi — lihat berkas CSV.")
    return "\n".join(kept)


def recent_text(broadcasts: list[BroadcastInfo], profile: ElectionProfile) -> str:
    if not broadcasts:
        return "Belum ada siaran yang terkirim ke grup."
    lines = ["📋 <b>Siaran terakhir</b> — pilih untuk melihat laporannya:"]
    lines += [escape(broadcast_line(b, profile)) for b in broadcasts]
    return "\n".join(lines)


def _missing(kel: KelurahanCoverage, limit: int = 30) -> str:
    by_rw: dict[int, list[int]] = defaultdict(list)
    whole: list[int] = []
    for rw, rt in kel.missing:
        if rt is None:
            whole.append(rw)
        else:
            by_rw[rw].append(rt)
    parts = [f"RW {rw:02d}" for rw in whole]
    parts += [
        f"RW {rw:02d}: RT " + ", ".join(f"{rt:02d}" for rt in rts) for rw, rts in by_rw.items()
    ]
    shown = parts[:limit]
    more = f" … dan {len(parts) - limit} lagi" if len(parts) > limit else ""
    return "; ".join(shown) + more


def coverage_text(report: NeighbourhoodCoverage, scope_name: str) -> str:
    lines = [f"🗺️ <b>Cakupan grup RW/RT</b> — {escape(scope_name)}", ""]
    if not report.has_list:
        lines.append(
            "Daftar resmi RW/RT belum diimpor. Kirim berkas CSV (kolom kelurahan,rw,rt) ke "
            "chat ini dengan keterangan /cakupan."
        )
        registered = sum(k.groups for k in report.kelurahan)
        lines.append(f"Grup terdaftar saat ini: {registered}.")
        return "\n".join(lines)
    rw_listed = sum(k.rw_listed for k in report.kelurahan)
    rw_covered = sum(k.rw_covered for k in report.kelurahan)
    rt_listed = sum(k.rt_listed for k in report.kelurahan)
    rt_covered = sum(k.rt_covered for k in report.kelurahan)
    lines += [
        f"RW punya grup: <b>{rw_covered}</b>/{rw_listed}",
        f"RT punya grup: <b>{rt_covered}</b>/{rt_listed}",
        "",
        "<i>kelurahan: RW bergrup/terdaftar · RT bergrup/terdaftar</i>",
    ]
    kecamatan = ""
    for kel in report.kelurahan:
        if not kel.listed:
            continue
        if kel.kecamatan != kecamatan:
            kecamatan = kel.kecamatan
            lines.append(f"<b>Kec. {escape(kecamatan)}</b>")
        lines.append(
            f"  {escape(kel.name)}: {kel.rw_covered}/{kel.rw_listed} · "
            f"{kel.rt_covered}/{kel.rt_listed}"
        )
    unlisted = [k.name for k in report.kelurahan if not k.listed]
    if unlisted:
        lines += ["", f"Belum ada daftar untuk {len(unlisted)} kelurahan."]
    lines += ["", "Rincian: /cakupan &lt;nama kelurahan&gt; atau berkas CSV terlampir."]
    return _fit(lines)


def coverage_detail(kel: KelurahanCoverage) -> str:
    lines = [
        f"🗺️ <b>Cakupan Kelurahan {escape(kel.name)}</b> (Kec. {escape(kel.kecamatan)})",
        "",
    ]
    if not kel.listed:
        lines.append(
            "Daftar resmi RW/RT kelurahan ini belum diimpor. Kirim berkas CSV "
            "(kolom kelurahan,rw,rt) dengan keterangan /cakupan."
        )
        lines.append(f"Grup terdaftar di kelurahan ini: {kel.groups}.")
        return "\n".join(lines)
    lines += [
        f"RW punya grup: <b>{kel.rw_covered}</b>/{kel.rw_listed}",
        f"RT punya grup: <b>{kel.rt_covered}</b>/{kel.rt_listed}",
    ]
    if kel.missing:
        lines += ["", "<b>Belum punya grup terdaftar:</b>", escape(_missing(kel, limit=60))]
    else:
        lines += ["", "Semua RW dan RT di daftar sudah punya grup terdaftar. 👍"]
    return _fit(lines)
