"""Sections that one domain adds to another domain's page.

The app factory wires them, so the page's domain never imports the domains that contribute
to it (relationships shows analytics' scores and delivery's messages without depending on
either: those depend on relationships).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session

PanelContext = Callable[[Session, uuid.UUID, uuid.UUID | None], dict[str, Any]]


@dataclass(frozen=True)
class Panel:
    template: str
    context: PanelContext


def add_panel(app: FastAPI, page: str, panel: Panel) -> None:
    app.state.panels.setdefault(page, []).append(panel)


def panels_for(
    request: Request, page: str, session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None
) -> list[tuple[str, dict[str, Any]]]:
    """(template, context) of every panel on `page`; templates include each with `panel`."""
    registered: list[Panel] = request.app.state.panels.get(page, [])
    return [(p.template, p.context(session, person_id, brand_id)) for p in registered]


# A count beside a link in the person's navigation (the inbox's unread messages): registered by
# the composition root, asked for by the layout, so the layout names no domain.
NavCount = Callable[[Session, uuid.UUID], int]


def add_nav_count(app: FastAPI, name: str, count: NavCount) -> None:
    app.state.nav_counts[name] = count


def nav_count(request: Request, name: str) -> int:
    """The signed-in person's count for `name`, or 0 (no one signed in, nothing registered)."""
    counts: dict[str, NavCount] = getattr(request.app.state, "nav_counts", {})
    raw = request.session.get("person_id")
    if name not in counts or not raw:
        return 0
    try:
        person_id = uuid.UUID(str(raw))
    except ValueError:
        return 0
    with request.app.state.db.session() as session:
        return counts[name](session, person_id)
