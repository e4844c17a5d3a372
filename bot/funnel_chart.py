"""The onboarding funnel as a PNG (matplotlib Agg, as bot/charts.py): one row per kelurahan.

Each row nests the stages: the listed RW/RT as an outline, then bot added, registered and
acknowledged as ever narrower, darker bars (each is a subset of the one before).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from bot.charts import MAX_ROWS, ROW_IN, TEXT, WIDTH_IN
from domain.funnel import Funnel, FunnelRow
from election.profile import ElectionProfile
from messages.render import render

LISTED = "#52606d"
ADDED = "#c9d6e3"
REGISTERED = "#5fa8d3"
ACKNOWLEDGED = "#0b5d2e"
LOWEST = 15


@dataclass(frozen=True)
class Labels:
    title: str
    stages: tuple[str, str, str, str]
    all_rows: str
    lowest: str
    unplaced: str


def labels(funnel: Funnel, profile: ElectionProfile, now: datetime, scope: str) -> Labels:
    total = funnel.total()

    def text(key: str, **extra: object) -> str:
        return render(f"sistem.funnel.{key}", profile, now, extra)

    stages = text("tahap").splitlines()
    return Labels(
        title=text(
            "judul",
            scope=scope,
            listed=total.listed,
            added=total.added,
            registered=total.registered,
            acknowledged=total.acknowledged,
        ),
        stages=(stages[0], stages[1], stages[2], stages[3]),
        all_rows=text("per_kelurahan"),
        lowest=text("terendah", n=LOWEST),
        unplaced=text("tanpa_tempat", n=funnel.unplaced) if funnel.unplaced else "",
    )


def _rate(row: FunnelRow) -> float:
    base = row.listed or row.added
    return row.registered / base if base else 0.0


def rows_for(funnel: Funnel) -> tuple[list[FunnelRow], bool]:
    """Every kelurahan with something to show when few; else the lowest registration rates."""
    rows = [r for r in funnel.rows if r.listed or r.added]
    if len(rows) <= MAX_ROWS:
        return rows, False
    return sorted(rows, key=lambda r: (_rate(r), -r.listed, r.name))[:LOWEST], True


def funnel_chart(funnel: Funnel, names: Labels, *, dpi: int = 100) -> bytes:
    rows, lowest = rows_for(funnel)
    height = max(len(rows), 1) * ROW_IN + 2.8
    figure = Figure(figsize=(WIDTH_IN, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(names.title, fontsize=17, color=TEXT)
    ax = figure.subplots()
    _draw(ax, rows, names.lowest if lowest else names.all_rows)
    if names.unplaced:
        ax.set_xlabel(names.unplaced, fontsize=13, color=TEXT)
    figure.legend(
        handles=[
            Patch(facecolor="white", edgecolor=LISTED, label=names.stages[0]),
            Patch(color=ADDED, label=names.stages[1]),
            Patch(color=REGISTERED, label=names.stages[2]),
            Patch(color=ACKNOWLEDGED, label=names.stages[3]),
        ],
        loc="outside lower center",
        ncols=2,
        fontsize=14,
        frameon=False,
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _draw(ax: Axes, rows: list[FunnelRow], title: str) -> None:
    ax.set_title(title, loc="left", fontsize=16, color=TEXT, fontweight="bold")
    if not rows:
        ax.set_axis_off()
        return
    y = list(range(len(rows)))
    added = [r.added for r in rows]
    registered = [min(r.registered, r.added) for r in rows]
    acknowledged = [min(r.acknowledged, r.registered) for r in rows]
    ax.barh(y, [r.listed for r in rows], height=0.85, color="none", edgecolor=LISTED)
    ax.barh(y, added, height=0.7, color=ADDED)
    ax.barh(y, registered, height=0.5, color=REGISTERED)
    ax.barh(y, acknowledged, height=0.3, color=ACKNOWLEDGED)
    widest = max([*(max(r.listed, r.added) for r in rows), 1])
    for pos, r in zip(y, rows, strict=True):
        ax.text(
            max(r.listed, r.added) + widest * 0.015,
            pos,
            f"{r.listed} · {r.added} · {r.registered} · {r.acknowledged}",
            va="center",
            fontsize=13,
            color=TEXT,
        )
    ax.set_yticks(y, labels=[r.name for r in rows], fontsize=14, color=TEXT)
    ax.invert_yaxis()
    ax.set_xlim(0, widest * 1.4)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color="#e4e7eb", linewidth=1)
    ax.set_axisbelow(True)
