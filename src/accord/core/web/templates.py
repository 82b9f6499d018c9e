"""Jinja2 set-up: each domain's templates/ folder under its own prefix, plus shared layouts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from markupsafe import Markup, escape

from accord.core import dates
from accord.core.kept import Kept
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
    env.globals["option_tags"] = option_tags
    env.globals["nav_link"] = nav_link
    env.globals["nav_links"] = nav_links
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


def nav_link(
    request: Request,
    href: str,
    label: str,
    *,
    exact: bool = False,
    id: str = "",
    count: int = 0,
    count_id: str = "",
    count_text: str = "",
) -> Markup:
    """A navigation link, the current section marked for assistive technology (aria-current)
    and visibly (CSS on [aria-current]). A section owns its sub-pages: /console/campaigns/42 is
    in Campaigns; `exact` keeps a home link (/console, /home) from owning everything below.
    The layouts call it for every link on every page: written here, it costs a fraction of
    the template macro it replaced (the text is the macro's, leading blank lines included)."""
    here = _is_current(request.url.path, href, exact)
    named = f' id="{escape(id)}"' if id else ""
    current = ' aria-current="page"' if here else ""
    badge = ""
    if count:
        badge_id = f' id="{escape(count_id)}"' if count_id else ""
        hidden = f'<span class="visually-hidden"> {escape(count_text)}</span>'
        badge = f' <span class="badge"{badge_id}>{escape(count)}{hidden}</span>'
    return Markup(
        f'\n\n<li><a href="{escape(href)}"{named}{current}>{escape(label)}{badge}</a></li>'
    )


def _is_current(path: str, href: str, exact: bool) -> bool:
    """Is `path` in the section `href` links to (`nav_link`)?"""
    return path == href or (not exact and path.startswith(f"{href}/"))


# (href, label) or (href, label, exact) of each link: a layout's list, a constant tuple.
NavLinks = tuple[tuple[Any, ...], ...]
_NAVS: Kept[Markup] = Kept(256)


def nav_links(request: Request, links: NavLinks) -> Markup:
    """`nav_link` for each of `links`, one per line as the layout wrote them (joined by the
    newline and indent between its lines). Which one is current is all that changes from one
    page to the next, so the links are written once per current link and kept: the console's
    fourteen links, written on every page, were a tenth of a small page's time."""
    path = request.url.path
    here = tuple(
        index
        for index, (href, _label, *exact) in enumerate(links)
        if _is_current(path, href, bool(exact and exact[0]))
    )
    return _NAVS.get(
        (links, here),
        lambda: Markup(
            "\n  ".join(
                nav_link(request, href, label, exact=bool(exact and exact[0]))
                for href, label, *exact in links
            )
        ),
    )


def option_tags(options: Iterable[Any], selected: Any, *, spaced: bool = False) -> Markup:
    """A select's `<option>`s for (value, text) pairs, each whose value equals `selected`
    marked, as the forms macros' loop wrote them (`spaced`: `select`'s, a space before the
    mark's place). The pickers' long lists (every time zone, language and country: hundreds of
    options, most of /profile's time as a template loop) are written once and kept, and each
    page marks its one choice in a copy."""
    if isinstance(options, tuple | list) and len(options) >= _KEPT_FROM:
        try:
            written = _written(tuple(options), spaced)
        except TypeError:  # an unhashable value: written each time
            pass
        else:
            return written.marked(selected)
    gap, mark = (" ", "selected") if spaced else ("", " selected")
    return Markup(
        "".join(
            f'<option value="{escape(value)}"{gap}{mark if value == selected else ""}>'
            f"{escape(text)}</option>"
            for value, text in options
        )
    )


_KEPT_FROM = 50  # options; a shorter list costs less to write than to look up


class _Written:
    """A long list's options as written with none marked, and where each value's mark goes."""

    def __init__(self, options: tuple[Any, ...], spaced: bool) -> None:
        gap = " " if spaced else ""
        self.mark = "selected" if spaced else " selected"
        parts = []
        self.places: dict[Any, list[int]] = {}
        at = 0
        for value, text in options:
            head = f'<option value="{escape(value)}"{gap}'
            self.places.setdefault(value, []).append(at + len(head))
            part = f"{head}>{escape(text)}</option>"
            parts.append(part)
            at += len(part)
        self.plain = "".join(parts)

    def marked(self, selected: Any) -> Markup:
        try:
            places = self.places.get(selected)
        except TypeError:  # unhashable: equal to no value here (they all hash)
            places = None
        if not places:
            return Markup(self.plain)
        pieces, start = [], 0
        for place in places:
            pieces += [self.plain[start:place], self.mark]
            start = place
        pieces.append(self.plain[start:])
        return Markup("".join(pieces))


@lru_cache(maxsize=16)
def _written(options: tuple[Any, ...], spaced: bool) -> _Written:
    return _Written(options, spaced)


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
