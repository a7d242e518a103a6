"""Charts drawn on the server as SVG geometry: the CSP allows no inline script or style.

A generalisation of refuge.hotline.charts for any number of series: stacked columns, stacked or
grouped horizontal bars, a line, and intervals (the simulation's confidence intervals). Each
function returns plain numbers for ``insights/_chart.html``; colours are CSS classes
(``ins-s0`` … ``ins-s7`` in refuge.css, a palette that colour-blind readers can tell apart).
Every chart is followed on the page by a table of the same numbers, and hidden figures are
drawn as nothing, with a mark.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 720
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
HIDDEN = "×"


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    cls: str
    title: str


@dataclass
class Text:
    x: float
    y: float
    label: str
    anchor: str = "middle"
    cls: str = "tick"


@dataclass
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    cls: str = "axis"


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    polylines: list[tuple[str, str]] = field(default_factory=list)  # (points, css class)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, label)
    empty: bool = False  # nothing to draw
    hidden: bool = False  # some figure is hidden

    @property
    def all_hidden(self) -> bool:
        return self.empty and self.hidden


Series = tuple[Sequence[int | None], str]  # (one value per row, label)


def num(x: float, decimals: int = 1) -> str:
    """A number as the page's language writes it (8.1 in English, 8,1 in Russian)."""
    from django.utils.formats import number_format

    return number_format(round(x, decimals), decimal_pos=decimals, use_l10n=True)


LABEL_CHARS = 52


def _label_width(labels: Sequence[str]) -> int:
    """Room for the longest label (about 7 px a character at the charts' 11 px)."""
    longest = min(LABEL_CHARS, max(map(len, labels), default=10))
    return max(120, min(400, 16 + 7 * longest))


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def css(n: int) -> str:
    return f"ins-s{n % 8}"


def nice_max(value: float, *, counts: bool = True) -> float:
    """A round top for an axis. For counts, a whole number whose half is whole too (the axis
    is labelled at 0, half and top); for shares, any round number."""
    if value <= 0:
        return 2 if counts else 1
    scale = 10.0 ** math.floor(math.log10(value))
    steps = (2, 4, 6, 8, 10) if counts else (1, 2, 2.5, 5, 10)
    for m in steps:
        top = m * scale
        if value <= top * (1 + 1e-9):
            return max(top, 2) if counts else top
    return 10 * scale


def _fmt(x: float) -> str:
    return f"{x:g}" if x < 10000 else f"{x / 1000:g}k"


def columns(labels: Sequence[str], series: Sequence[Series], *, every: int = 0) -> Chart:
    """One column per label, stacked from the series, with a y axis."""
    height = 240
    chart = Chart(WIDTH, height, legend=[(css(n), s[1]) for n, s in enumerate(series)])
    n = max(len(labels), 1)
    totals = [sum(int(s[0][i] or 0) for s in series) for i in range(len(labels))]
    top = nice_max(max(totals, default=0))
    chart.empty = not any(totals)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    base = TOP + plot_h
    slot = plot_w / n
    gap = min(2.0, slot * 0.2)
    every = every or max(1, n // 8)
    for i, label in enumerate(labels):
        x = LEFT + i * slot
        y = base
        for k, (values, name) in enumerate(series):
            v = values[i]
            if v is None:
                chart.hidden = True
                continue
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
                    css(k),
                    f"{label}: {name} {v}",
                )  # fmt: skip
            )
        if any(values[i] is None for values, _name in series) and n <= 40:
            chart.texts.append(Text(round(x + slot / 2, 2), round(y - 3, 2), HIDDEN, cls="mark"))
        if i % every == 0:
            chart.texts.append(Text(round(x + slot / 2, 2), height - 8, label))
    _y_axis(chart, top, base, plot_h, percent=False)
    return chart


def _y_axis(chart: Chart, top: float, base: float, plot_h: float, *, percent: bool) -> None:
    chart.lines.append(Line(LEFT, base, WIDTH - RIGHT, base))
    for frac in (0, 0.5, 1):
        y = round(base - plot_h * frac, 2)
        value = 100 * top * frac
        label = f"{num(value, 0 if value % 1 == 0 else 1)}%" if percent else _fmt(top * frac)
        chart.texts.append(Text(LEFT - 6, y + 4, label, anchor="end"))
        if frac:
            chart.lines.append(Line(LEFT, y, WIDTH - RIGHT, y, cls="grid"))


def bars(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = True,
    limit: int = 15,
    label_width: int = 0,
    totals: Sequence[int | None] | None = None,
    suffix: str = "",
) -> Chart:
    """Horizontal bars, one row per label (the first ``limit``): stacked, or grouped side by
    side when the series measure different things. ``totals``: the published total of each
    row, written at the end of a stacked bar ("×" when it is hidden; "(×)" after it when a
    part of the bar is)."""
    labels = list(labels)[:limit]
    label_width = label_width or _label_width(labels)
    row_h = 24 if stacked else 8 + 12 * len(series)
    height = TOP + BOTTOM + row_h * max(len(labels), 1)
    chart = Chart(WIDTH, height, legend=[(css(n), s[1]) for n, s in enumerate(series)])
    if stacked:
        sizes = [sum(int(s[0][i] or 0) for s in series) for i in range(len(labels))]
    else:
        sizes = [int(s[0][i] or 0) for s in series for i in range(len(labels))]
    top = nice_max(max(sizes, default=0))
    # Nothing to draw: no row, or nothing but zeros (and zeros are findings only for shares).
    shown = [v for s in series for v in s[0][: len(labels)] if v is not None]
    chart.empty = not labels or (not any(sizes) and not (suffix and shown))
    plot_w = WIDTH - label_width - RIGHT - 44
    for i, label in enumerate(labels):
        y = TOP + i * row_h
        chart.texts.append(Text(label_width - 8, y + row_h / 2 + 4, _short(label), anchor="end"))
        x = float(label_width)
        for k, (values, name) in enumerate(series):
            v = values[i]
            if not stacked:
                x = float(label_width)
                by = y + 4 + 12 * k
                bh = 10.0
            else:
                by, bh = y + 4, row_h - 8.0
            if v is None:
                chart.hidden = True
                if not stacked:
                    chart.texts.append(Text(x + 4, by + bh - 1, HIDDEN, anchor="start", cls="mark"))
                continue
            w = plot_w * v / top if v > 0 else 0
            if w:
                chart.bars.append(
                    Bar(round(x, 2), round(by, 2), round(w, 2), bh, css(k), f"{label}: {name} {v}")
                )
            if not stacked and (v or suffix):  # a share of 0% is a finding; a count of 0 is not
                chart.texts.append(
                    Text(round(x + w + 4, 2), by + bh - 1, f"{v}{suffix}", anchor="start")
                )
            x += w
        if stacked:
            part_hidden = any(s[0][i] is None for s in series)
            if totals is not None:
                total = totals[i]
                label_text = HIDDEN if total is None else str(total)
                if total is not None and part_hidden:
                    label_text += f" ({HIDDEN})"
            else:
                label_text = f"{sizes[i]} ({HIDDEN})" if part_hidden else str(sizes[i])
            chart.texts.append(
                Text(
                    round(x + 4, 2),
                    y + row_h / 2 + 4,
                    label_text,
                    anchor="start",
                    cls="mark" if label_text == HIDDEN else "tick",
                )  # fmt: skip
            )
    return chart


def line(labels: Sequence[str], values: Sequence[float | None], *, every: int = 0) -> Chart:
    """A line of shares (0–1, or above when over full), gaps where a value is hidden."""
    height = 220
    chart = Chart(WIDTH, height)
    shown = [v for v in values if v is not None]
    top = max(1.0, nice_max(max(shown, default=0), counts=False))
    chart.empty = not shown
    chart.hidden = any(v is None for v in values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    base = TOP + plot_h
    n = max(len(values), 1)
    step = plot_w / max(n - 1, 1)
    every = every or max(1, n // 8)
    run: list[str] = []
    for i, v in enumerate(values):
        x = LEFT + i * step
        if v is None:
            if len(run) > 1:
                chart.polylines.append((" ".join(run), "ins-line"))
            run = []
        else:
            y = base - plot_h * v / top
            run.append(f"{x:.1f},{y:.1f}")
            chart.bars.append(
                Bar(
                    round(x - 2, 2),
                    round(y - 2, 2),
                    4,
                    4,
                    "ins-dot",
                    f"{labels[i]}: {100 * v:.0f}%",
                )
            )
        if i % every == 0:
            chart.texts.append(Text(round(x, 2), height - 8, labels[i]))
    if len(run) > 1:
        chart.polylines.append((" ".join(run), "ins-line"))
    _y_axis(chart, top, base, plot_h, percent=True)
    return chart


def intervals(
    labels: Sequence[str],
    means: Sequence[float],
    cis: Sequence[tuple[float, float]],
    *,
    highlight: int | None = None,
    suffix: str = "%",
    label_width: int = 0,
) -> Chart:
    """Horizontal bars with a 95% interval whisker each (model results): shares, shown as
    percent (or percentage points, ``suffix``)."""
    row_h = 26
    height = TOP + BOTTOM + row_h * max(len(labels), 1)
    chart = Chart(WIDTH, height)
    label_width = label_width or _label_width(labels)
    top = nice_max(max([hi for _lo, hi in cis] + list(means) + [0]), counts=False)
    chart.empty = not labels
    plot_w = WIDTH - label_width - RIGHT - 60
    for i, (label, m, (lo, hi)) in enumerate(zip(labels, means, cis, strict=True)):
        y = TOP + i * row_h
        cls = css(1) if highlight == i else css(0)
        chart.texts.append(Text(label_width - 8, y + row_h / 2 + 4, _short(label), anchor="end"))
        w = plot_w * max(m, 0) / top
        shown = f"{num(100 * m)}{suffix}"
        chart.bars.append(
            Bar(label_width, y + 5, round(w, 2), row_h - 10, cls, f"{label}: {shown}")
        )
        x1 = label_width + plot_w * max(lo, 0) / top
        x2 = label_width + plot_w * max(hi, 0) / top
        mid = y + row_h / 2
        chart.lines.append(Line(round(x1, 2), mid, round(x2, 2), mid, cls="whisker"))
        chart.lines.append(Line(round(x1, 2), mid - 5, round(x1, 2), mid + 5, cls="whisker"))
        chart.lines.append(Line(round(x2, 2), mid - 5, round(x2, 2), mid + 5, cls="whisker"))
        chart.texts.append(
            Text(round(max(x2, label_width + w) + 6, 2), mid + 4, shown, anchor="start")
        )
    base = TOP + row_h * max(len(labels), 1)
    chart.lines.append(Line(label_width, TOP, label_width, base))
    for frac in (0, 0.5, 1):
        x = label_width + plot_w * frac
        text = f"{num(100 * top * frac, 0 if (100 * top * frac) % 1 == 0 else 1)}{suffix}"
        chart.texts.append(Text(round(x, 2), height - 8, text))
    return chart
