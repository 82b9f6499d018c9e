"""The preference matrix's switch, written in Python (`preference_matrix.switches`), is what the
relationship page's macro wrote, character for character."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from accord.relationships.preference_matrix import switches

# relationship.html's macro, as the page called it before `switches`.
SWITCH_MACRO = (
    '{% macro switch(key, label, kind, note="") -%}\n'
    '{% set id = "c-" ~ key|replace(":", "-") %}\n'
    '<span class="switch-cell"><input type="checkbox" class="switch {{ kind }}" id="{{ id }}" '
    'name="{{ key }}" value="on" {% if key in checked %}checked{% endif %}'
    '{% if note %} aria-describedby="{{ id }}-n"{% endif %}><label for="{{ id }}">'
    '<span class="visually-hidden">{{ label }}</span></label>{% if note %}'
    '<span class="badge note" id="{{ id }}-n">{{ note }}</span>{% endif %}</span>\n'
    "{%- endmacro %}{{ switch(key, label, kind, *note) }}"
)
CHECKED = {"purpose:marketing", "channel:marketing:sms", "topic:1f0e"}


@pytest.mark.parametrize(
    ("key", "label", "kind"),
    [
        ("purpose:marketing", "Marketing", "purpose-switch"),
        ("channel:marketing:sms", "Marketing by SMS", "channel-switch"),
        ("channel:marketing:push", "Marketing by push", "channel-switch"),
        ("topic:1f0e", "Jazz & <blues>", "topic-switch"),
        ('topic:"x"', "Quotes 'and' \"more\"", "topic-switch"),
    ],
)
@pytest.mark.parametrize("note", [(), ("",), ("no verified address yet",), ("a <b> & c",)])
def test_a_switch_is_written_as_the_macro_wrote_it(
    key: str, label: str, kind: str, note: tuple[str, ...]
) -> None:
    expected = (
        Environment(autoescape=True)
        .from_string(SWITCH_MACRO)
        .render(key=key, label=label, kind=kind, note=note, checked=CHECKED)
    )
    assert str(switches(CHECKED)(key, label, kind, *note)) == expected
