"""`accord conversations digest`: e-mail members the conversations waiting on them."""

from __future__ import annotations

import threading
from typing import Annotated

import typer

from accord.core.cli_helpers import console, load_settings

conversations_app = typer.Typer(no_args_is_help=True, help="Conversations.")


@conversations_app.command("digest")
def digest_command(
    every: Annotated[
        int,
        typer.Option(help="Keep running, sending what is due every this many minutes (0: once)."),
    ] = 0,
) -> None:
    """Send the members' digest e-mails that are due (each member at most every
    ACCORD_DIGEST_MINUTES), listing the conversations waiting on them."""
    from accord.conversations.digest import run_once
    from accord.core.db import Database
    from accord.mail.service import build_mailer

    settings = load_settings()
    db = Database.from_settings(settings)
    mailer = build_mailer(settings)
    stop = threading.Event()
    try:
        while True:
            sent = run_once(db, settings, mailer)
            console.print(f"Digests sent to {sent.members} members ({sent.threads} conversations).")
            if every <= 0 or stop.wait(every * 60):
                break
    except KeyboardInterrupt:
        pass
    finally:
        db.engine.dispose()
