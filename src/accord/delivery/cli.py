"""`accord inbound-smtp`: receive bounces, complaints, mailto unsubscribes and routed mail.

The command itself is in the composition root (`accord.inbound`), which hands in the routes of
the domains that take mail (conversation replies); this module runs the server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from accord.core.cli_helpers import console, fail
from accord.core.settings import Settings

if TYPE_CHECKING:
    from accord.delivery.inbound_smtp import MailRoute


def run_inbound_smtp(
    settings: Settings, host: str, port: int, routes: Sequence[MailRoute] = ()
) -> None:
    from accord.core.db import Database
    from accord.core.errors import SchemaBehind
    from accord.core.migrate import ensure_current
    from accord.delivery import inbound_smtp as server

    try:
        ensure_current(Database.from_settings(settings).engine)
    except SchemaBehind as exc:
        raise fail(str(exc)) from None
    console.print(f"Inbound SMTP on [bold]{host}:{port}[/]. Press Ctrl+C to stop.")
    server.serve(settings, host, port, routes=routes)
