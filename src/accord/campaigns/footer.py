"""The footer every brand message carries: who sent it (with the postal address marketing
needs), why the person gets it, and how to unsubscribe."""

from __future__ import annotations

from typing import Any

from markupsafe import escape


def footer_text(brand: Any, topic_name: str, unsubscribe_url: str | None) -> str:
    lines = ["", "--", f"{brand.name} · {brand.postal_address or ''}".rstrip(" ·")]
    if unsubscribe_url:
        lines.append(
            f"You get this because you chose '{topic_name}'. Unsubscribe: {unsubscribe_url}"
        )
    lines.append("Manage everything you receive from every brand on Accord.")
    return "\n".join(lines)


def footer_html(brand: Any, topic_name: str, unsubscribe_url: str | None) -> str:
    parts = [f"<p>{escape(brand.name)} · {escape(brand.postal_address or '')}</p>"]
    if unsubscribe_url:
        parts.append(
            f"<p>You get this because you chose '{escape(topic_name)}'. "
            f'<a href="{escape(unsubscribe_url)}">Unsubscribe</a></p>'
        )
    return '<hr><div class="accord-footer">' + "".join(parts) + "</div>"
