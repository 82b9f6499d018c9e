"""`accord serve` and `accord demo`: the web app, with the embedded worker beside it.

Part of the composition root: it builds the app (every domain) and starts delivery."""

from __future__ import annotations

from typing import Annotated

import typer

from accord.core.cli_helpers import HostOption, PortOption, fail, settings_for
from accord.core.cycles import freeze_start_up
from accord.core.errors import SchemaBehind
from accord.core.settings import Settings


def serve_app(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from accord.app import create_app

    try:
        web_app = create_app(settings)
    except SchemaBehind as exc:
        raise fail(str(exc)) from None
    worker = digests = None
    if settings.worker_in_process:
        from accord.conversations.digest import DigestLoop
        from accord.delivery.worker import Worker

        # The embedded default needs no second process: one worker runs beside the web app,
        # and the members' digest e-mails go from a thread of their own.
        worker = Worker(web_app.state.db, settings)
        worker.start_thread()
        digests = DigestLoop(web_app.state.db, settings, web_app.state.mailer)
        digests.start_thread()
    freeze_start_up()
    log_config = None
    if settings.log_format == "json":
        from accord.core.logs import configure

        configure("json")
    else:
        log_config = uvicorn.config.LOGGING_CONFIG
    try:
        uvicorn.run(
            web_app,
            host=host,
            port=port,
            log_level="info",
            log_config=log_config,
            access_log=settings.access_log,
        )
    finally:
        if worker is not None:
            worker.stop.set()
        if digests is not None:
            digests.stop.set()


def serve(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Serve the web pages and the REST API (refuses to start on an outdated schema)."""
    serve_app(settings_for(host, port), host, port)


def demo(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    serve: Annotated[bool, typer.Option(help="Serve after seeding (--no-serve to stop).")] = True,
) -> None:
    """Migrate the database, load the demo data (safe to run again) and serve Accord."""
    from accord.demo.cli import prepare

    settings = settings_for(host, port)
    prepare(settings)
    if serve:
        serve_app(settings, host, port)
