"""Message templates: the direct rendering of text-and-field templates equals Jinja's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.campaigns import templating

BRAND = SimpleNamespace(
    name="Bench & Sons <Records>",
    support_email="help@bench.example",
    postal_address="1 Bench Street",
)
FIELDS = [f"{obj}.{attr}" for obj, attrs in templating.ALLOWED.items() for attr in attrs]

TEMPLATES = [
    "",
    "plain text",
    "trailing newline\n",
    "two trailing newlines\n\n",
    "{{ person.name }}",
    "Hello {{ person.first_name }},\n\n{{ brand.name }} at {{ brand.postal_address }}\n",
    "<h1>{{ topic.name }}</h1><p>{{brand.support_email}}</p>",
    "{{ person.name | upper }}",  # a filter: left to Jinja
    "{% if person.name %}yes{% endif %}",  # a block: left to Jinja
    "{{ person.nickname }}",  # not a field templates may use: left to Jinja
    "{# a comment #}{{ person.locale }}",
]


def jinja(source: str, context: dict[str, object], html: bool) -> str:
    return templating.compiled(source, html).render(**context)


@pytest.mark.parametrize("html", [False, True])
@pytest.mark.parametrize("source", TEMPLATES)
def test_direct_rendering_equals_jinja(source: str, html: bool) -> None:
    context = templating.context_for(
        display_name="Zoë <O'Brien> & Co", locale="fr", brand=BRAND, topic_name='"Jazz" & <blues>'
    )
    assert templating.render(source, context, html=html) == jinja(source, context, html)


@given(
    pieces=st.lists(st.one_of(st.text(max_size=20), st.sampled_from(FIELDS)), max_size=8),
    name=st.text(max_size=20),
    html=st.booleans(),
)
def test_direct_rendering_equals_jinja_for_any_text(
    pieces: list[str], name: str, html: bool
) -> None:
    source = "".join(
        "{{ " + piece + " }}" if piece in FIELDS else piece.replace("{", "(") for piece in pieces
    )
    context = templating.context_for(display_name=name, locale="en", brand=BRAND, topic_name=name)
    assert templating.render(source, context, html=html) == jinja(source, context, html)
