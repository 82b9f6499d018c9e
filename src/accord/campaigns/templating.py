"""Sandboxed message templates with only safe fields, checked when a campaign is saved."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from accord.core.errors import InvalidInput

# The only values a template can see. No e-mail address, no id, nothing the brand should not.
ALLOWED = {
    "person": {"name", "first_name", "locale"},
    "brand": {"name", "support_email", "postal_address"},
    "topic": {"name"},
}

_env = SandboxedEnvironment(autoescape=False)
_html_env = SandboxedEnvironment(autoescape=True)


def check(source: str, *, field: str) -> None:
    """Refuse a template that does not parse or uses a field outside ALLOWED, naming it."""
    try:
        tree = _env.parse(source)
    except TemplateSyntaxError as exc:
        raise InvalidInput(
            f"{field}: template error on line {exc.lineno}: {exc.message}", field=field
        ) from None
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name not in ALLOWED:
            raise InvalidInput(
                f"{field}: '{node.name}' is not a field templates may use "
                f"(allowed: {', '.join(_allowed_names())}).",
                field=field,
            )
    for attr in tree.find_all(nodes.Getattr):
        owner = attr.node
        if isinstance(owner, nodes.Name) and attr.attr not in ALLOWED.get(owner.name, set()):
            raise InvalidInput(
                f"{field}: '{owner.name}.{attr.attr}' is not a field templates may use "
                f"(allowed: {', '.join(_allowed_names())}).",
                field=field,
            )
    if next(tree.find_all(nodes.Getitem), None) is not None:
        raise InvalidInput(f"{field}: use person.name style fields, not [] lookups.", field=field)


def _allowed_names() -> list[str]:
    return [f"{obj}.{attr}" for obj, attrs in ALLOWED.items() for attr in sorted(attrs)]


@lru_cache(maxsize=64)
def compiled(source: str, html: bool) -> Template:
    """Parsing and compiling a template costs a hundred times what rendering it does, and a
    campaign renders the same few sources for every recipient: compile each once. Compiled
    templates are immutable, so the cache is safe across threads."""
    return (_html_env if html else _env).from_string(source)


def render(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    return compiled(source, html).render(**context)


def context_for(*, display_name: str, locale: str, brand: Any, topic_name: str) -> dict[str, Any]:
    first = display_name.split()[0] if display_name.strip() else ""
    return {
        "person": {
            "name": display_name or "there",
            "first_name": first or "there",
            "locale": locale,
        },
        "brand": {
            "name": brand.name,
            "support_email": brand.support_email,
            "postal_address": brand.postal_address or "",
        },
        "topic": {"name": topic_name},
    }
