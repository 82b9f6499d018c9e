"""`accord compliance`: check a rules file, load it, list the loaded rules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from accord.core.cli_helpers import cli_errors, console, load_settings

compliance_app = typer.Typer(
    help="Legal rules as data: sending windows, frequency limits, consent."
)

FileArgument = Annotated[
    Path | None,
    typer.Argument(help="A rules file (TOML); default: the rules Accord ships with."),
]


@compliance_app.command("check")
def check(path: FileArgument = None) -> None:
    """Check a rules file without loading it; exit 1 naming the first wrong row."""
    from accord.compliance import service

    with cli_errors():
        ruleset = service.check_file(path)
    console.print(
        f"[green]Rules file is valid:[/] {len(ruleset.jurisdictions)} jurisdictions, "
        f"{len(ruleset.rules)} rules."
    )


@compliance_app.command("load")
def load(path: FileArgument = None) -> None:
    """Replace the loaded rules with a rules file, all or nothing; both gates read them at once."""
    from accord.compliance import service
    from accord.core.db import Database

    db = Database.from_settings(load_settings())
    with cli_errors(), db.transaction() as session:
        ruleset = service.load_file(session, path)
    console.print(
        f"[green]Loaded[/] {len(ruleset.jurisdictions)} jurisdictions and "
        f"{len(ruleset.rules)} rules."
    )


@compliance_app.command("rules")
def rules() -> None:
    """List the loaded rules with their legal sources."""
    from rich.table import Table

    from accord.compliance import service
    from accord.core.db import Database

    db = Database.from_settings(load_settings())
    with db.session() as session:
        ruleset = service.rules(session)
    table = Table("rule", "where", "channel", "purpose", "what", "source")
    for rule in ruleset.rules:
        table.add_row(
            rule.id, rule.jurisdiction, rule.channel, rule.purpose, rule.summary(), rule.source
        )
    console.print(table)
