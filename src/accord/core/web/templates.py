"""Jinja2 set-up: each domain's templates/ folder under its own prefix, plus shared layouts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from markupsafe import Markup, escape

from accord.core import dates
from accord.core.web.csrf import csrf_token
from accord.core.web.panels import nav_count, person_banners

PACKAGE_DIR = Path(__file__).resolve().parents[2]


def build_templates() -> Jinja2Templates:
    domains = {
        path.parent.name: FileSystemLoader(path)
        for path in sorted(PACKAGE_DIR.glob("*/templates"))
        if path.parent.name != "core"
    }
    loader = ChoiceLoader(
        [FileSystemLoader(PACKAGE_DIR / "core" / "templates"), PrefixLoader(domains)]
    )
    # No auto_reload: it stats every template (layouts, imports, includes) on every render,
    # and `accord serve` reloads no code either, so a changed template needs a restart anyway.
    env = Environment(
        loader=loader, autoescape=select_autoescape(["html", "xml"]), auto_reload=False
    )
    env.globals["csrf_token"] = csrf_token
    env.globals["nav_count"] = nav_count
    env.globals["person_banners"] = person_banners
    env.filters["when"] = dates.when  # the viewer's zone and locale format
    env.filters["linkify"] = linkify
    env.filters["phone"] = phone_shown
    return Jinja2Templates(env=env)


def phone_shown(number: Any) -> str:
    """An E.164 number as people write it (+44 7911 123456); anything else as it is."""
    import phonenumbers

    text = str(number or "")
    if not text.startswith("+"):
        return text
    try:
        parsed = phonenumbers.parse(text)
    except phonenumbers.NumberParseException:
        return text
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Escaped text with its http(s) URLs as links (the dev mailbox shows plain-text mail)."""
    escaped = str(escape(text))
    return Markup(_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))


def flash(request: Request, text: str, level: str = "info") -> None:
    request.session.setdefault("flash", []).append([level, text])


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    values = {
        "flashes": request.session.pop("flash", []),
        "is_dev": request.app.state.settings.is_dev,
        "errors": {},
        "values": {},
        "limits": {},
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, values, status_code=status_code)
