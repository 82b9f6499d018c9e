"""`accord worker`: a delivery worker process. Run as many as you like against PostgreSQL."""

from __future__ import annotations

from typing import Annotated

import typer

from accord.core.cli_helpers import console, fail, load_settings
from accord.core.db import Database
from accord.core.errors import SchemaBehind
from accord.core.logs import configure
from accord.core.migrate import ensure_current


def worker(
    idle: Annotated[float, typer.Option(help="Seconds to wait when nothing is due.")] = 1.0,
    once: Annotated[bool, typer.Option(help="Process what is due now, then exit.")] = False,
) -> None:
    """Deliver messages: resolve due campaigns, claim due outbox rows, re-check the gate, send."""
    from accord.delivery.worker import Worker

    settings = load_settings()
    configure(settings.log_format)
    db = Database.from_settings(settings)
    try:
        ensure_current(db.engine)
    except SchemaBehind as exc:
        raise fail(str(exc)) from None
    runner = Worker(db, settings)
    if once:
        outcome = runner.run_until_idle()
        console.print(
            f"sent {outcome.sent}, deferred {outcome.deferred}, skipped {outcome.skipped}, "
            f"failed {outcome.failed}"
        )
        return
    console.print(f"Worker [bold]{runner.name}[/] running; Ctrl-C stops it.")
    try:
        runner.run(idle)
    except KeyboardInterrupt:
        runner.stop.set()
