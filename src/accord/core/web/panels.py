"""Sections that one domain adds to another domain's page.

The app factory wires them, so the page's domain never imports the domains that contribute
to it (relationships shows analytics' scores and delivery's messages without depending on
either: those depend on relationships).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session

from accord.core.principals import BrandCaller

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
    with _session(request) as session:
        return counts[name](session, person_id)


# Sections other domains add to a brand console page (the console's home): each sees the
# caller, so it can show nothing to a role that may not read it (None hides the section).
BrandPanelContext = Callable[[Session, BrandCaller], dict[str, Any] | None]


@dataclass(frozen=True)
class BrandPanel:
    template: str
    context: BrandPanelContext


def add_brand_panel(app: FastAPI, page: str, panel: BrandPanel) -> None:
    app.state.brand_panels.setdefault(page, []).append(panel)


def brand_panels_for(
    request: Request, page: str, session: Session, caller: BrandCaller
) -> list[tuple[str, dict[str, Any]]]:
    registered: list[BrandPanel] = getattr(request.app.state, "brand_panels", {}).get(page, [])
    found = [(p.template, p.context(session, caller)) for p in registered]
    return [(template, context) for template, context in found if context is not None]


@dataclass(frozen=True)
class SetupStep:
    """One step of a new brand's set-up checklist, contributed by the domain that knows it."""

    order: int
    title: str
    text: str
    href: str
    done: Callable[[Session, uuid.UUID], bool]


def add_setup_step(app: FastAPI, step: SetupStep) -> None:
    app.state.setup_steps.append(step)


def setup_checklist(
    request: Request, session: Session, brand_id: uuid.UUID
) -> list[tuple[SetupStep, bool]]:
    steps: list[SetupStep] = getattr(request.app.state, "setup_steps", [])
    return [(step, step.done(session, brand_id)) for step in sorted(steps, key=lambda s: s.order)]


# A banner over every page of a signed-in person (do-not-contact on, everything paused):
# registered by the composition root, asked for by the layout.
PersonBanners = Callable[[Session, uuid.UUID], list[dict[str, str]]]


def add_person_banners(app: FastAPI, banners: PersonBanners) -> None:
    app.state.person_banners = banners


def person_banners(request: Request) -> list[dict[str, str]]:
    banners: PersonBanners | None = getattr(request.app.state, "person_banners", None)
    raw = request.session.get("person_id")
    if banners is None or not raw:
        return []
    try:
        person_id = uuid.UUID(str(raw))
    except ValueError:
        return []
    with _session(request) as session:
        return banners(session, person_id)


@contextmanager
def _session(request: Request) -> Iterator[Session]:
    """The request's own session while its transaction is open and usable (a page renders
    inside its route), else one of its own (an error page after a failed flush, a page with no
    session): a second session costs a pool checkout and a transaction."""
    session: Session | None = getattr(request.state, "db_session", None)
    transaction = session.get_transaction() if session is not None else None
    if session is not None and transaction is not None and transaction.is_active:
        yield session
        return
    with request.app.state.db.session() as own:
        yield own
