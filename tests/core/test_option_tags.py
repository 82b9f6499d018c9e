"""A select's options written in Python (`option_tags`) are what the forms macros' template loop
wrote, character for character: long lists kept and marked in a copy, short ones written."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import Environment

from accord.core import pickers
from accord.core.web.templates import option_tags

PICKER_LOOP = (
    '{% for value, text in options %}<option value="{{ value }}"'
    "{% if selected == value %} selected{% endif %}>{{ text }}</option>{% endfor %}"
)
SELECT_LOOP = (
    '{% for value, text in options %}<option value="{{ value }}" '
    "{% if selected == value %}selected{% endif %}>{{ text }}</option>{% endfor %}"
)
LONG = [(f"v{i}", f"Option {i}") for i in range(80)]
ODD = [("a&b", 'say "hi" <b>'), ("x", "first x"), ("x", "second x"), (3, "three"), (None, "none")]


def _loop(template: str, options: Any, selected: Any) -> str:
    env = Environment(autoescape=True)
    return env.from_string(template).render(options=options, selected=selected)


@pytest.mark.parametrize(
    "options",
    [
        LONG,
        tuple(LONG),
        LONG + ODD,
        ODD,
        [],
        pickers.time_zone_options("2026-12-06"),
        pickers.with_current(pickers.language_options(), "xx-old"),
    ],
)
@pytest.mark.parametrize("selected", [None, "", "v3", "v79", "x", 3, "a&b", "Europe/Berlin", ["x"]])
def test_options_are_written_as_the_template_loop_wrote_them(options: Any, selected: Any) -> None:
    for spaced, loop in ((False, PICKER_LOOP), (True, SELECT_LOOP)):
        expected = _loop(loop, options, selected)
        assert str(option_tags(options, selected, spaced=spaced)) == expected
        # A second time from the kept list, marked afresh.
        assert str(option_tags(options, selected, spaced=spaced)) == expected
