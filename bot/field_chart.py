"""The field board as a PNG (matplotlib Agg, as bot/charts.py): open cases per category,
stacked by age, so the oldest (darkest) stand out on a phone."""

from __future__ import annotations

from datetime import datetime

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from bot.charts import ROW_IN, TEXT, WIDTH_IN, with_legend_png
from domain.field import categories
from domain.field.board import AGES, FieldBoard
from election.profile import ElectionProfile
from messages.render import render

COLOURS = ("#f5c26b", "#e07b39", "#9b2c2c")  # young, older, past two hours


def _without_emoji(label: str) -> str:
    """The button label's leading emoji has no glyph in the chart's font."""
    head, _, rest = label.partition(" ")
    return rest if rest and not head[:1].isalnum() else label


def field_chart(
    board: FieldBoard, profile: ElectionProfile, title: str, *, now: datetime | None = None,
    dpi: int = 100,
) -> bytes:  # fmt: skip
    at = now or board.at
    counts = board.by_category_and_age()
    rows = [
        (_without_emoji(render(c.label, profile, at)), counts.get(c.key))
        for c in categories.categories()
    ]
    height = max(len(rows), 1) * ROW_IN + 2.4
    figure = Figure(figsize=(WIDTH_IN, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=19, color=TEXT)
    ax = figure.subplots()
    names = [name for name, _ in rows][::-1]
    left = [0] * len(names)
    for (_, bucket), colour in zip(AGES, COLOURS, strict=True):
        values = [(c[bucket] if c else 0) for _, c in rows][::-1]
        ax.barh(names, values, left=left, color=colour, height=0.7)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, total in enumerate(left):
        if total:
            ax.text(total + 0.05, y, str(total), va="center", fontsize=14, color=TEXT)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max([*left, 1]) * 1.15)
    ax.tick_params(labelsize=14, colors=TEXT)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return with_legend_png(
        figure,
        [
            Patch(color=colour, label=render(f"ui.lapangan.umur_{bucket_key}", profile, at))
            for colour, bucket_key in zip(COLOURS, ("muda", "sedang", "lama"), strict=True)
        ],
        dpi,
    )
