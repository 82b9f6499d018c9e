"""The app factory: one FastAPI app per Settings, nothing built at import time.

Part of the composition root (with `accord.cli` and `accord.models`): the only modules that
import every domain. `accord.app:create_app` is the entry point for ASGI servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import accord
import accord.models
from accord.core.db import Database
from accord.core.loop_reads import LoopReads
from accord.core.migrate import ensure_current
from accord.core.settings import Settings
from accord.core.web import openapi, route_index
from accord.core.web.edge import Edge
from accord.core.web.errors import install_error_handlers
from accord.core.web.request_slots import RequestSlots
from accord.core.web.templates import build_templates
from accord.mail.backends import build_mailer

STATIC_DIR = Path(__file__).resolve().parent / "core" / "static"


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    check_schema: bool = True,
) -> FastAPI:
    """Build Accord's web app. Raises SchemaBehind when the database needs `accord db upgrade`.

    Without arguments it reads ACCORD_* settings, so an ASGI server can call it:
    `uvicorn --factory accord.app:create_app`."""
    settings = settings or Settings()
    db = database or Database.from_settings(settings)
    if check_schema:
        ensure_current(db.engine)
    secret = settings.resolved_secret_key()
    app = FastAPI(
        title="Accord",
        version=accord.__version__,
        docs_url=None,  # served by accord.core.web.api_docs, without a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.templates = build_templates()
    app.state.mailer = build_mailer(settings)
    app.state.panels = {}
    app.state.brand_panels = {}
    app.state.setup_steps = []
    app.state.texter = _texter(db, settings)
    app.state.sms_reply_handlers = []
    app.state.nav_counts = {}
    app.state.request_slots = RequestSlots(settings.db_connections)
    app.state.loop_reads = LoopReads(db.engine, settings.db_connections)

    # One layer for what every request passes through (security headers on every answer, the
    # body size limit, the session cookie, Idempotency-Key, SQLite's retry when busy).
    app.add_middleware(
        Edge,
        https=settings.secure_cookies,
        max_bytes=settings.max_body_bytes,
        secret_key=secret,
        session_cookie="accord_session",
        max_age=settings.session_days * 86400,
        same_site="lax",
        sqlite=db.engine.dialect.name == "sqlite",
    )
    install_error_handlers(app)
    openapi.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _include_routers(app, settings)
    _wire_inbound(app)
    route_index.install(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    try:
        yield
    finally:
        app.state.loop_reads.close()


def _wire_inbound(app: FastAPI) -> None:
    """Inbound texts that are not keywords become conversation messages (sms never imports
    conversations)."""
    from accord.conversations import service as conversations
    from accord.sms import service as sms

    sms.add_reply_handler(app, conversations.sms_reply)


def _texter(db: Database, settings: Settings) -> object:
    """The SMS domain's texter (phone codes, STOP confirmations), for every domain to use."""
    from accord.sms.service import build_texter

    return build_texter(db, settings)


def _include_routers(app: FastAPI, settings: Settings) -> None:
    # Imported here so that building the app, not importing this module, pulls in the domains.
    from accord.analytics import pages as analytics_pages
    from accord.analytics import transparency_pages as analytics_transparency_pages
    from accord.brands import api as brands_api
    from accord.brands import pages as brands_pages
    from accord.campaigns import api as campaigns_api
    from accord.campaigns import pages as campaign_pages
    from accord.consent import keys_api
    from accord.conversations import api as conversations_api
    from accord.conversations import console_pages as conversation_console_pages
    from accord.conversations import pages as conversation_pages
    from accord.core.web import api_docs, home
    from accord.delivery import (
        feedback_api,
        message_log,
        metrics,
        sms_receipts,
        tracking_pages,
        unsubscribe_pages,
    )
    from accord.gatecheck import api as gatecheck_api
    from accord.ideas import api as ideas_api
    from accord.ideas import console_pages as idea_console_pages
    from accord.ideas import pages as idea_pages
    from accord.inbox import api as inbox_api
    from accord.inbox import pages as inbox_pages
    from accord.people import api as people_api
    from accord.people import contact_pages as people_contact_pages
    from accord.people import contacts_api
    from accord.people import pages as people_pages
    from accord.postal import api as postal_api
    from accord.privacy import api as privacy_api
    from accord.privacy import pages as privacy_pages
    from accord.push import api as push_api
    from accord.push import pages as push_pages
    from accord.relationships import api as relationships_api
    from accord.relationships import console_pages as topic_console_pages
    from accord.relationships import link_pages as relationship_link_pages
    from accord.relationships import pages as relationship_pages
    from accord.relationships import person_api
    from accord.relationships import receipt_pages as relationship_receipt_pages
    from accord.relationships import settings_pages as relationship_settings_pages
    from accord.sms import api as sms_api
    from accord.sms import hooks as sms_hooks
    from accord.sms import pages as sms_pages
    from accord.sms import portal_pages as sms_portal_pages
    from accord.webhooks import api as webhooks_api
    from accord.webhooks import pages as webhooks_pages

    app.include_router(home.router)
    api_docs.install(app)
    app.include_router(keys_api.router)
    # Not under /api/v1 and without CSRF: mailbox providers and e-mail services call these.
    app.include_router(unsubscribe_pages.one_click_router)
    app.include_router(feedback_api.router)
    app.include_router(metrics.router)
    app.include_router(tracking_pages.router)
    app.include_router(sms_hooks.router)
    app.include_router(sms_receipts.router)
    for api in (
        people_api,
        contacts_api,
        person_api,
        privacy_api,
        brands_api,
        relationships_api,
        campaigns_api,
        conversations_api,
        ideas_api,
        push_api,
        inbox_api,
        sms_api,
        webhooks_api,
        gatecheck_api,
        postal_api,
        message_log,
    ):
        app.include_router(api.router, prefix="/api/v1")
    app.include_router(conversations_api.person_router, prefix="/api/v1")
    app.include_router(ideas_api.person_router, prefix="/api/v1")
    app.include_router(people_pages.router)
    app.include_router(brands_pages.router)
    for pages in (
        people_contact_pages,
        relationship_pages,
        relationship_settings_pages,
        relationship_receipt_pages,
        relationship_link_pages,
        privacy_pages,
        topic_console_pages,
        campaign_pages,
        unsubscribe_pages,
        analytics_pages,
        analytics_transparency_pages,
        conversation_pages,
        conversation_console_pages,
        idea_pages,
        idea_console_pages,
        push_pages,
        inbox_pages,
        sms_pages,
        sms_portal_pages,
        webhooks_pages,
    ):
        app.include_router(pages.router)
    _include_terms_and_intents(app)
    _add_panels(app)
    if settings.is_dev:
        from accord.mail import pages as mail_pages
        from accord.sms import dev_phone_pages

        app.include_router(mail_pages.router)
        app.include_router(dev_phone_pages.router)
    from accord.analytics import api as analytics_api

    app.include_router(analytics_api.router, prefix="/api/v1")


def _include_terms_and_intents(app: FastAPI) -> None:
    from accord.core.web.panels import Panel, add_panel
    from accord.intents import api as intents_api
    from accord.intents import pages as intents_pages
    from accord.terms import api as terms_api
    from accord.terms import pages as terms_pages
    from accord.terms import service as terms

    app.include_router(terms_api.well_known)
    app.include_router(terms_pages.router)
    app.include_router(intents_pages.router)
    for router in (
        terms_api.public_router,
        terms_api.person_router,
        terms_api.brand_router,
        intents_api.public_router,
        intents_api.person_router,
        intents_api.brand_router,
    ):
        app.include_router(router, prefix="/api/v1")
    add_panel(app, "relationship", Panel("terms/relationship_panel.html", terms.panel))


def _add_panels(app: FastAPI) -> None:
    from accord.analytics import transparency_pages
    from accord.conversations import pages as conversation_pages
    from accord.core.web.panels import Panel, add_nav_count, add_panel
    from accord.delivery import history, tracking
    from accord.ideas import pages as idea_pages
    from accord.inbox import service as inbox
    from accord.relationships import service as relationships
    from accord.sms import portal_pages as sms_portal_pages

    add_panel(app, "home", Panel("relationships/home_panel.html", relationships.home_panel))
    add_panel(
        app, "relationship", Panel("analytics/transparency_panel.html", transparency_pages.panel)
    )
    add_panel(app, "relationship", Panel("delivery/sent_panel.html", history.panel))
    add_panel(app, "relationship", Panel("sms/texts_panel.html", sms_portal_pages.panel))
    add_panel(app, "relationship", Panel("delivery/tracking_panel.html", tracking.panel))
    add_panel(
        app,
        "relationship",
        Panel("conversations/relationship_panel.html", conversation_pages.relationship_panel),
    )
    add_panel(
        app, "relationship", Panel("ideas/relationship_panel.html", idea_pages.relationship_panel)
    )
    add_nav_count(app, "inbox", inbox.unread_count)
    from accord.core.web.panels import add_person_banners
    from accord.relationships import global_prefs

    add_person_banners(app, global_prefs.banners)
    _add_console_home(app)


def _add_console_home(app: FastAPI) -> None:
    """The console's home: a new brand's checklist and each domain's section."""
    from accord.analytics import dashboard as analytics_dashboard
    from accord.brands import service as brands
    from accord.campaigns import dashboard as campaigns_dashboard
    from accord.conversations import console_pages as conversation_console_pages
    from accord.core.web.panels import BrandPanel, SetupStep, add_brand_panel, add_setup_step
    from accord.relationships import service as relationships

    for step in (
        SetupStep(
            1,
            "Sender and postal address",
            "Who your e-mails come from, and the postal address every marketing e-mail must carry.",
            "/console/settings",
            brands.has_sender,
        ),
        SetupStep(
            2,
            "Topics",
            "What people can choose to hear about, each with its purpose.",
            "/console/topics",
            relationships.has_topics,
        ),
        SetupStep(
            3,
            "API key",
            "A key for your shop or CRM to record consent and send messages.",
            "/console/api-keys",
            brands.has_api_key,
        ),
        SetupStep(
            4,
            "First campaign",
            "Write one, see who it reaches and why the others are left out, and send it.",
            "/console/campaigns/new",
            campaigns_dashboard.has_sent,
        ),
    ):
        add_setup_step(app, step)
    for template, context in (
        ("conversations/dashboard_panel.html", conversation_console_pages.dashboard_panel),
        ("campaigns/dashboard_panel.html", campaigns_dashboard.Panel()),
        ("analytics/dashboard_panel.html", analytics_dashboard.panel),
    ):
        add_brand_panel(app, "console_home", BrandPanel(template, context))
