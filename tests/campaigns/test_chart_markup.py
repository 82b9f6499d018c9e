"""A chart written by `Chart.markup` is the text chart.html's macro wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from accord.campaigns import charts

TEMPLATES = Path(charts.__file__).resolve().parent / "templates"
ROWS = [
    [],
    [("Eligible", 0, "good")],
    [("Eligible", 1200, "good"), ("Quiet hours <deferred>", 37, "wait"), ("No consent", 3, "out")],
    [("A & B", 7, "bad"), ('"quoted"', 7, "unknown tone")],
]


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("caption", ["By reason.", "Messages <by> state & more."])
def test_a_chart_is_written_as_the_macro_wrote_it(rows: list, caption: str) -> None:
    chart = charts.bar_chart("chart-<1>", "Audience & reason", rows)
    macro = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True).from_string(
        '{% from "chart.html" import bar_chart %}{{ bar_chart(chart, caption) }}'
    )
    assert str(chart.markup(caption)) == macro.render(chart=chart, caption=caption)
