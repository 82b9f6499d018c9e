"""The intent settings' category check boxes, written in Python, are the template loop's text."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from accord.intents import pages, taxonomy

LOOP = """    {% for group, options in categories %}
    <fieldset>
      <legend>{{ group }}</legend>
      {% for value, text in options %}
      <div class="check">
        <input type="checkbox" id="cat-{{ value }}" name="categories" value="{{ value }}" \
{% if value in subscribed %}checked{% endif %}>
        <label for="cat-{{ value }}">{{ text }}</label>
      </div>
      {% endfor %}
    </fieldset>
    {% endfor %}"""
SLUGS = list(taxonomy.CATEGORIES)


@pytest.mark.parametrize("subscribed", [set(), set(SLUGS[:1]), set(SLUGS[::3]), set(SLUGS)])
def test_the_check_boxes_are_the_loops_text(subscribed: set[str]) -> None:
    expected = (
        Environment(autoescape=True)
        .from_string(LOOP)
        .render(categories=taxonomy.grouped(), subscribed=subscribed)
    )
    assert "    " + str(pages._category_checks(subscribed)) == expected
