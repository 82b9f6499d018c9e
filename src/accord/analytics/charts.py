"""Small server-rendered SVG charts: bars, a line chart with two series, a grid heat map.

No JavaScript, no CDN. Each helper returns a ``<figure>`` holding an ``<svg role="img">`` with
an ``aria-label``, a ``<title>`` and a ``<desc>``; the page puts a data table with the same
figures right after every chart. Colours keep at least 3:1 contrast against white.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
INK = "#1a1d23"
GRID = "#c9ced6"
# Series colours and dash patterns: told apart by shape as well as colour.
SERIES_STYLES = [("#1f4e8c", ""), ("#a34700", "6 4"), ("#1b6b35", "2 3")]
BAR_FILL = "#1f4e8c"
NEGATIVE_FILL = "#a4161a"
SUPPRESSED_FILL = "#eceff3"

Format = Callable[[float], str]


def number(value: float) -> str:
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 13) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{INK}">{escape(content)}</text>'
    )


def _figure(chart_id: str, title: str, description: str, height: float, body: list[str]) -> Markup:
    label = f"{title}. {description}" if description else title
    svg = (
        f'<svg role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {height:.0f}" '
        'class="chart-svg" '
        f'xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}">'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
        + "".join(body)
        + "</svg>"
    )
    caption = (
        f'<figcaption class="muted">{escape(title)}. The table below gives the same figures.'
        "</figcaption>"
    )
    return Markup(f'<figure class="chart">{svg}{caption}</figure>')


def bar_chart(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float | None]],
    *,
    fmt: Format = number,
    description: str = "",
) -> Markup:
    """Horizontal bars, one per (label, value); None draws no bar and says "not shown"."""
    label_w, value_w, bar_h, gap, top = 210, 110, 22, 8, 6
    values = [abs(v) for _, v in rows if v is not None]
    longest = max(values, default=0.0)
    room = WIDTH - label_w - value_w
    body: list[str] = []
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_h + gap)
        text_y = y + bar_h / 2 + 5
        body.append(_text(label_w - 8, text_y, label, anchor="end"))
        if value is None:
            body.append(_text(label_w + 4, text_y, "not shown (fewer than 5)"))
            continue
        width = room * abs(value) / longest if longest else 0.0
        fill = NEGATIVE_FILL if value < 0 else BAR_FILL
        body.append(
            f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{bar_h}" fill="{fill}"/>'
        )
        body.append(_text(label_w + width + 6, text_y, fmt(value)))
    summary = "; ".join(f"{label}: {fmt(v) if v is not None else 'not shown'}" for label, v in rows)
    height = top * 2 + max(len(rows), 1) * (bar_h + gap)
    return _figure(chart_id, title, description or summary or "No data yet.", height, body)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1.0
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if top >= value:
            return float(top)
    return float(10 * magnitude)


def _line_marks(
    points: Sequence[tuple[float, float] | None], colour: str, dash_attr: str
) -> list[str]:
    """A series' line: a polyline per run of points between gaps, a dot for a lone point."""
    runs: list[list[str]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(f"{point[0]:.1f},{point[1]:.1f}")
    marks = []
    for run in runs:
        if len(run) == 1:
            cx, cy = run[0].split(",")
            marks.append(f'<circle cx="{cx}" cy="{cy}" r="3.5" fill="{colour}"/>')
        elif run:
            marks.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                f'stroke-width="2.5"{dash_attr}/>'
            )
    return marks


def line_chart(
    chart_id: str,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    fmt: Format = number,
    description: str = "",
) -> Markup:
    """Up to three series over the same x positions; None leaves a gap in a line."""
    left, right, top, bottom = 70, 20, 34, 40
    height = 280
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    found = [v for s in series for v in s.values if v is not None]
    y_max = _nice_max(max(found, default=0.0))
    n = len(x_labels)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * v / y_max

    body: list[str] = []
    for k in range(5):
        value = y_max * k / 4
        y = top + plot_h - plot_h * k / 4
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        body.append(_text(left - 6, y + 4, fmt(value), anchor="end", size=12))
    step = max(1, -(-n // 8))
    for i in range(0, n, step):
        x, _ = xy(i, 0)
        body.append(_text(x, height - bottom + 18, x_labels[i], anchor="middle", size=12))
    for k, s in enumerate(series):
        colour, dash = SERIES_STYLES[k % len(SERIES_STYLES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        points = [None if v is None else xy(i, v) for i, v in enumerate(s.values)]
        body += _line_marks(points, colour, dash_attr)
        lx = left + k * 200
        body.append(
            f'<line x1="{lx}" y1="14" x2="{lx + 28}" y2="14" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/>'
        )
        body.append(_text(lx + 34, 18, s.name))
    if not description:
        last = [
            f"{s.name} {fmt(v)}"
            for s in series
            for v in [next((x for x in reversed(s.values) if x is not None), None)]
            if v is not None
        ]
        description = (
            f"{n} point{'s' if n != 1 else ''} from {x_labels[0]} to {x_labels[-1]}; "
            f"last values: {', '.join(last)}."
            if n
            else "No data yet."
        )
    return _figure(chart_id, title, description, height, body)


def heat_grid(
    chart_id: str,
    title: str,
    rows: Sequence[int],
    columns: Sequence[int],
    cells: dict[tuple[int, int], int | None],
    *,
    row_name: str = "R",
    column_name: str = "F",
    description: str = "",
) -> Markup:
    """A grid of counts in five shades, darker for more; None cells are suppressed (< 5)."""
    left, top, cell_w, cell_h = 60, 30, 100, 44
    largest = max((v for v in cells.values() if v), default=0)
    body: list[str] = []
    for j, col in enumerate(columns):
        body.append(
            _text(left + j * cell_w + cell_w / 2, top - 10, f"{column_name} {col}", anchor="middle")
        )
    for i, row in enumerate(rows):
        y = top + i * cell_h
        body.append(_text(left - 8, y + cell_h / 2 + 5, f"{row_name} {row}", anchor="end"))
        for j, col in enumerate(columns):
            x = left + j * cell_w
            value = cells.get((row, col))
            if value is None:
                fill, label, ink = SUPPRESSED_FILL, "fewer than 5", INK
            else:
                level = _level(value, largest)
                fill = _blend(LEVELS[level])
                label, ink = f"{value:,}", "#ffffff" if level == len(LEVELS) - 1 else INK
            body.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{fill}" stroke="{GRID}"/>'
            )
            body.append(
                f'<text x="{x + cell_w / 2 - 1:.1f}" y="{y + cell_h / 2 + 5:.1f}" '
                f'text-anchor="middle" font-size="13" fill="{ink}">{escape(label)}</text>'
            )
    height = top + len(rows) * cell_h + 10
    if not description:
        description = (
            f"Customers by {row_name} and {column_name} score; the largest cell holds "
            f"{largest:,}. Cells with fewer than 5 customers are not shown."
        )
    return _figure(chart_id, title, description, height, body)


# Discrete shades, lightest to darkest: dark text keeps 4.5:1 on all but the last, which takes
# white text (8:1). Shades in between would fail with either.
LEVELS = (0.0, 0.12, 0.28, 0.44, 0.6, 1.0)


def _level(value: int, largest: int) -> int:
    if value <= 0 or largest <= 0:
        return 0
    return min(len(LEVELS) - 1, 1 + int(5 * value / largest))


def _blend(share: float) -> str:
    """From a pale wash (share 0) to the bar blue (share 1)."""
    low, high = (0xEE, 0xF2, 0xF8), (0x1F, 0x4E, 0x8C)
    mixed = (round(a + (b - a) * share) for a, b in zip(low, high, strict=True))
    return "#" + "".join(f"{c:02x}" for c in mixed)
