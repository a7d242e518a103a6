"""Charts drawn on the server as SVG geometry (the CSP allows no inline script or style).

Each function returns plain numbers for `hotline/_chart_*.html`; colours come from CSS classes
in refuge.css. Every chart on a page is followed by a table of the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 28


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    cls: str
    title: str


@dataclass
class Tick:
    x: float
    y: float
    label: str


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    xticks: list[Tick] = field(default_factory=list)
    yticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, label)
    empty: bool = False
    baseline: float = 0.0


def _nice_max(value: float) -> float:
    """A round top for the axis, even so that its half is a whole number of calls."""
    if value <= 2:
        return 2
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return step * 4 if value > step * 2 else step * 2 if value > step else step
    return value


def stacked_columns(
    rows: list[dict[str, Any]], series: list[tuple[str, str, str]], *, every: int = 0
) -> Chart:
    """Columns (one per row), each stacked from ``series`` = [(key, css class, label)].

    Suppressed values (None) draw nothing.
    """
    chart = Chart(WIDTH, HEIGHT, legend=[(cls, label) for _k, cls, label in series])
    totals = [sum(int(r.get(k) or 0) for k, _c, _l in series) for r in rows]
    top = _nice_max(max(totals, default=0))
    chart.empty = not any(totals)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    chart.baseline = TOP + plot_h
    n = max(len(rows), 1)
    slot = plot_w / n
    gap = min(2.0, slot * 0.2)
    every = every or max(1, n // 8)
    for i, row in enumerate(rows):
        x = LEFT + i * slot
        y = chart.baseline
        for key, cls, label in series:
            v = int(row.get(key) or 0)
            if v <= 0:
                continue
            h = plot_h * v / top
            y -= h
            chart.bars.append(
                Bar(
                    round(x + gap / 2, 2),
                    round(y, 2),
                    round(slot - gap, 2),
                    round(h, 2),
                    cls,
                    f"{row['label']}: {label} {v}",
                )
            )
        if i % every == 0:
            chart.xticks.append(
                Tick(round(x + slot / 2, 2), HEIGHT - 8, str(row.get("tick", row["label"])))
            )
    for frac in (0, 0.5, 1):
        chart.yticks.append(
            Tick(LEFT - 6, round(chart.baseline - plot_h * frac + 4, 2), f"{top * frac:g}")
        )
    return chart


def horizontal_bars(rows: list[dict[str, Any]], key: str, cls: str, label: str) -> Chart:
    """One bar per row, labelled on the left (regions, lines)."""
    row_h, label_w = 22, 210
    height = TOP + BOTTOM + row_h * max(len(rows), 1)
    chart = Chart(WIDTH, height, legend=[(cls, label)])
    values = [int(r.get(key) or 0) for r in rows]
    top = _nice_max(max(values, default=0))
    chart.empty = not any(values)
    plot_w = WIDTH - label_w - RIGHT - 40
    for i, (row, v) in enumerate(zip(rows, values, strict=True)):
        y = TOP + i * row_h
        chart.yticks.append(Tick(label_w - 6, y + row_h * 0.7, str(row["label"])[:32]))
        if v > 0:
            w = plot_w * v / top
            chart.bars.append(
                Bar(label_w, y + 3, round(w, 2), row_h - 6, cls, f"{row['label']}: {v}")
            )
            chart.xticks.append(Tick(round(label_w + w + 4, 2), y + row_h * 0.7, str(v)))
    return chart
