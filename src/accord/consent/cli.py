"""`accord ledger verify`: recompute every chain, report the first broken link of each."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from accord.consent import verification
from accord.core.cli_helpers import console, fail, load_settings
from accord.core.db import Database

ledger_app = typer.Typer(help="The hash-chained consent ledger.")


@ledger_app.command("verify")
def verify(
    person: Annotated[
        str | None, typer.Option(help="Check only this person's chain (their opaque id).")
    ] = None,
) -> None:
    """Recompute every person's hash chain; exit 1 and name the first broken link of each."""
    subject = None
    if person is not None:
        try:
            subject = uuid.UUID(person)
        except ValueError:
            raise fail(f"'{person}' is not a person id.") from None
    db = Database.from_settings(load_settings())
    with db.session() as session:
        checked, breaks = verification.verify(session, subject=subject)
    if not breaks:
        console.print(f"[green]Ledger intact:[/] {checked} events, every chain verified.")
        return
    console.print("[bold red]Broken chains[/] (first broken link of each):")
    for item in breaks:
        # Plain lines, never wrapped, so the ids can be copied and grepped.
        print(f"person {item.subject} seq {item.seq}: {item.reason}")
    raise fail(f"{len(breaks)} broken chain(s) among {checked} events.")
