"""`accord inbound-smtp`: receive bounces, complaints and mailto unsubscribes."""

from __future__ import annotations

from typing import Annotated

import typer

from accord.core.cli_helpers import console, fail, load_settings


def inbound_smtp(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 2525,
) -> None:
    """Receive DSN bounces, ARF complaints and mailto unsubscribes over SMTP."""
    from accord.core.db import Database
    from accord.core.errors import SchemaBehind
    from accord.core.migrate import ensure_current
    from accord.delivery import inbound_smtp as server

    settings = load_settings()
    try:
        ensure_current(Database.from_settings(settings).engine)
    except SchemaBehind as exc:
        raise fail(str(exc)) from None
    console.print(f"Inbound SMTP on [bold]{host}:{port}[/]. Press Ctrl+C to stop.")
    server.serve(settings, host, port)
