"""Offline charts: horizontal bars laid out here and drawn as inline SVG by a template.

No JavaScript and no CDN: the server computes every coordinate, and each chart comes with a
data table right after it for people who cannot see it.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
LABEL_WIDTH = 230
VALUE_WIDTH = 60
BAR_HEIGHT = 22
GAP = 8
TOP = 6
# Fills with at least 3:1 contrast against white (WCAG 1.4.11, graphical objects).
FILLS = {"good": "#1b6b35", "wait": "#8a5a00", "out": "#4a5260", "bad": "#a4161a"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    tone: str
    y: int
    width: float

    @property
    def fill(self) -> str:
        return FILLS.get(self.tone, FILLS["out"])

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT // 2 + 5


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    bars: list[Bar]
    width: int = WIDTH
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def height(self) -> int:
        return TOP * 2 + len(self.bars) * (BAR_HEIGHT + GAP)

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)

    def markup(self, caption: str) -> Markup:
        """The chart as inline SVG in its figure, as chart.html's `bar_chart` macro wrote it
        (its text, blank lines and indents included): written here, it costs the report page a
        fraction of the macro's loop."""
        cid, left = escape(self.id), self.label_width
        parts = [
            f'<figure class="chart" aria-labelledby="{cid}-caption">\n  <svg role="img" '
            f'aria-labelledby="{cid}-title" aria-describedby="{cid}-desc" '
            f'viewBox="0 0 {self.width} {self.height}" class="chart-svg" '
            f'xmlns="http://www.w3.org/2000/svg">\n    '
            f'<title id="{cid}-title">{escape(self.title)}</title>\n    '
            f'<desc id="{cid}-desc">{escape(self.description)}</desc>\n    '
        ]
        for bar in self.bars:
            parts.append(
                f'\n    <text x="{left - 8}" y="{bar.text_y}" text-anchor="end" font-size="14" '
                f'fill="#1a1d23">{escape(bar.label)}</text>\n    '
                f'<rect x="{left}" y="{bar.y}" width="{bar.width}" height="{self.bar_height}" '
                f'fill="{escape(bar.fill)}"></rect>\n    '
                f'<text x="{left + bar.width + 6}" y="{bar.text_y}" font-size="14" '
                f'fill="#1a1d23">{bar.value}</text>\n    '
            )
        parts.append(
            f'\n  </svg>\n  <figcaption id="{cid}-caption" class="muted">{escape(caption)} '
            "The table below gives the same figures.</figcaption>\n</figure>"
        )
        return Markup("".join(parts))


def bar_chart(
    chart_id: str, title: str, rows: list[tuple[str, int, str]], *, description: str = ""
) -> Chart:
    """`rows` are (label, value, tone); bars are scaled to the largest value."""
    longest = max((value for _, value, _ in rows), default=0)
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = [
        Bar(
            label=label,
            value=value,
            tone=tone,
            y=TOP + i * (BAR_HEIGHT + GAP),
            width=round(room * value / longest, 1) if longest else 0.0,
        )
        for i, (label, value, tone) in enumerate(rows)
    ]
    summary = "; ".join(f"{bar.label}: {bar.value}" for bar in bars)
    return Chart(
        id=chart_id,
        title=title,
        description=description or summary or "No data yet.",
        bars=bars,
    )
