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
