"""Report charts as PNG, drawn on a bare matplotlib Figure (Agg): no pyplot, no global state.

Made to be read on a phone: one horizontal bar per place, delivered behind acknowledged behind
the leaders' acknowledgements, large type, the rate written at the end of each bar.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from domain.reports import BroadcastReport, Tally

DELIVERED = "#c9d6e3"
ACKNOWLEDGED = "#2e9e5b"
LEADER = "#0b5d2e"
TEXT = "#1f2933"
WIDTH_IN = 10.8  # at 100 dpi: 1080 px, what a phone screen shows without zooming
ROW_IN = 0.62
MAX_ROWS = 20
LOWEST = 10


@dataclass(frozen=True)
class Panel:
    title: str
    rows: list[tuple[str, Tally]]


def panels_for(report: BroadcastReport) -> list[Panel]:
    """Every kelurahan when few; otherwise the kecamatan and the kelurahan that lag most."""
    kelurahan = report.kelurahan()
    if len(kelurahan) <= MAX_ROWS:
        many_kecamatan = len(report.kecamatan) > 1
        rows = [
            (f"{kel.name} ({kec.name})" if many_kecamatan else kel.name, kel.tally)
            for kec, kel in kelurahan
        ]
        return [Panel("Per kelurahan", rows)]
    lowest = sorted(
        (kel for _, kel in kelurahan if kel.tally.delivered),
        key=lambda k: (k.tally.rate, -k.tally.delivered, k.name),
    )[:LOWEST]
    return [
        Panel("Per kecamatan", [(f"Kec. {k.name}", k.tally) for k in report.kecamatan]),
        Panel(f"{len(lowest)} kelurahan dengan konfirmasi terendah",
              [(k.name, k.tally) for k in lowest]),
    ]  # fmt: skip


def report_chart(report: BroadcastReport, *, dpi: int = 100) -> bytes:
    """The report as a PNG: delivered vs acknowledged groups per place."""
    panels = [p for p in panels_for(report) if p.rows] or [Panel("Belum ada data", [])]
    heights = [max(len(p.rows), 1) * ROW_IN + 0.9 for p in panels]
    figure = Figure(figsize=(WIDTH_IN, sum(heights) + 1.9), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    info, total = report.broadcast, report.total
    figure.suptitle(
        f"Siaran #{info.id} · {report.scope_name}\n"
        f"Sudah dibaca {total.acknowledged} dari {total.delivered} grup "
        f"({total.rate * 100:.0f}%) · ketua {total.leader}",
        fontsize=19,
        color=TEXT,
    )
    axes = figure.subplots(len(panels), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, panel in zip(axes, panels, strict=True):
        _draw(ax, panel)
    return with_legend_png(
        figure,
        [
            Patch(color=DELIVERED, label="Terkirim"),
            Patch(color=ACKNOWLEDGED, label="Sudah dibaca"),
            Patch(color=LEADER, label="Ketua konfirmasi"),
        ],
        dpi,
    )


def with_legend_png(figure: Figure, handles: list[Patch], dpi: int) -> bytes:
    """The figure with its legend in one row under the panels, as PNG bytes (every chart)."""
    figure.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=15, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _draw(ax: Axes, panel: Panel) -> None:
    ax.set_title(panel.title, loc="left", fontsize=17, color=TEXT, fontweight="bold")
    if not panel.rows:
        ax.set_axis_off()
        return
    labels = [name for name, _ in panel.rows]
    positions = list(range(len(panel.rows)))
    delivered = [t.delivered for _, t in panel.rows]
    acknowledged = [min(t.acknowledged, t.delivered) for _, t in panel.rows]
    leader = [min(t.leader, t.delivered) for _, t in panel.rows]
    ax.barh(positions, delivered, height=0.8, color=DELIVERED)
    ax.barh(positions, acknowledged, height=0.55, color=ACKNOWLEDGED)
    ax.barh(positions, leader, height=0.25, color=LEADER)
    widest = max([*delivered, 1])
    for y, (_, tally) in zip(positions, panel.rows, strict=True):
        ax.text(
            tally.delivered + widest * 0.015,
            y,
            f"{tally.acknowledged}/{tally.delivered} ({tally.rate * 100:.0f}%)",
            va="center",
            fontsize=14,
            color=TEXT,
        )
    ax.set_yticks(positions, labels=labels, fontsize=15, color=TEXT)
    ax.invert_yaxis()
    ax.set_xlim(0, widest * 1.32)
    ax.tick_params(axis="x", labelsize=12, colors="#52606d")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color="#e4e7eb", linewidth=1)
    ax.set_axisbelow(True)
