"""What the layouts and forms write in Python is what their template macros wrote, character for
character: a select's options (`option_tags`: long lists kept and marked in a copy, short ones
written) and the navigation's links (`nav_link`)."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import Environment
from starlette.requests import Request

from accord.core import pickers
from accord.core.web.templates import nav_link, nav_links, option_tags

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


# nav.html's macro, as the layouts called it before `nav_link`.
NAV_MACRO = (
    '{% macro link(href, label, exact=false, id="", count=0, count_id="", count_text="") -%}\n'
    "{% set path = request.url.path %}\n"
    '{% set here = path == href or (not exact and path.startswith(href ~ "/")) %}\n'
    '<li><a href="{{ href }}"{% if id %} id="{{ id }}"{% endif %}'
    '{% if here %} aria-current="page"{% endif %}>{{ label }}'
    '{% if count %} <span class="badge"{% if count_id %} id="{{ count_id }}"{% endif %}>'
    '{{ count }}<span class="visually-hidden"> {{ count_text }}</span></span>{% endif %}</a></li>\n'
    "{%- endmacro %}{{ link(href, label, **options) }}"
)


@pytest.mark.parametrize("path", ["/home", "/inbox", "/inbox/3", "/inboxes", "/console/x"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"exact": True},
        {"id": "nav-inbox", "count": 3, "count_id": "inbox-unread", "count_text": "unread"},
        {"count": 12, "count_text": "new <b>"},
        {"id": "a&b", "count": 0, "count_id": "x"},
    ],
)
@pytest.mark.parametrize(("href", "label"), [("/home", "Home"), ("/inbox", "Inbox & more")])
def test_a_navigation_link_is_written_as_the_macro_wrote_it(
    path: str, options: dict[str, Any], href: str, label: str
) -> None:
    request = Request({"type": "http", "path": path, "query_string": b"", "headers": []})
    expected = (
        Environment(autoescape=True)
        .from_string(NAV_MACRO)
        .render(request=request, href=href, label=label, options=options)
    )
    assert str(nav_link(request, href, label, **options)) == expected


LINKS = (("/console", "Overview", True), ("/console/ideas", "Ideas"), ("/console/id", "Id & co"))


@pytest.mark.parametrize(
    "path", ["/console", "/console/ideas", "/console/ideas/3", "/console/id", "/console/x"]
)
def test_navigation_links_are_written_as_one_link_a_line(path: str) -> None:
    """As the layout wrote them, each on its line; kept, and still marked for each path."""
    request = Request({"type": "http", "path": path, "query_string": b"", "headers": []})
    one_a_line = Environment(autoescape=True).from_string(
        '{{ nav_link(request, "/console", "Overview", exact=true) }}\n'
        '  {{ nav_link(request, "/console/ideas", "Ideas") }}\n'
        '  {{ nav_link(request, "/console/id", "Id & co") }}'
    )
    expected = one_a_line.render(request=request, nav_link=nav_link)
    assert str(nav_links(request, LINKS)) == expected
    assert str(nav_links(request, LINKS)) == expected  # kept
