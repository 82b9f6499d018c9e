"""`accord relationships import`: consent a brand collected in another system."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from accord.brands import service as brands
from accord.core import csv_input
from accord.core.cli_helpers import cli_errors, console, load_settings
from accord.core.db import Database, utcnow
from accord.relationships import consent_import, consent_import_rows

relationships_app = typer.Typer(help="Relationships and consent: bulk import with evidence.")


class Rejects:
    """`line,reason` and then the row's own columns; the file is opened on the first reject."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self.header = header
        self.file: IO[str] | None = None
        self.writer: Any = None

    def __call__(self, line: int, reason: str, raw: dict[str, str]) -> None:
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
            self.writer = csv.writer(self.file)
            self.writer.writerow(["line", "reason", *self.header])
        self.writer.writerow([line, reason, *(raw.get(c, "") for c in self.header)])

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


@relationships_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The CSV file.")],
    brand: Annotated[str, typer.Option(help="The brand's slug.")],
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows go (default: var/rejects/…).")
    ] = None,
    chunk: Annotated[int, typer.Option(min=1, help="Rows per set-based write.")] = 2000,
) -> None:
    """Import opt-ins with their evidence from a CSV file.

    Columns: email, source, collected_at (required); purpose (marketing), channels (email),
    topics (slugs), ip and/or form_url, double_opt_in (yes/no), confirmed_at, notice_version.
    Rows without a completed double opt-in get a confirmation e-mail; nothing is sent to them
    until they confirm. Importing the same file again changes nothing."""
    settings = load_settings()
    data = file.read_bytes()
    with cli_errors():
        header, rows = csv_input.dict_rows(data)
        missing = [c for c in consent_import_rows.REQUIRED if c not in header]
        if missing:
            console.print(f"The file has no column {', '.join(missing)}.", style="red")
            raise typer.Exit(1)
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        path = rejects or Path(settings.var_dir) / "rejects" / f"{file.stem}-{stamp}.csv"
        writer = Rejects(path, header)
        total = max(data.count(b"\n") - 1, 0) or None
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        try:
            with (
                Database.from_settings(settings).transaction() as session,
                Progress(*columns, TimeRemainingColumn(), console=console) as bar,
            ):
                found = brands.get_brand_by_slug(session, brand)
                task = bar.add_task(f"Importing {file.name}", total=total)
                report = consent_import.run(
                    session,
                    settings,
                    found,
                    enumerate(rows, start=2),
                    chunk=chunk,
                    reject=writer,
                    progress=lambda done: bar.update(task, completed=done),
                )
        finally:
            writer.close()
    table = Table(title=f"Consent import into {brand}")
    for name in ("rows read", "granted", "awaiting confirmation", "already there", "rejected"):
        table.add_column(name, justify="right")
    table.add_row(
        *(
            f"{n:,}"
            for n in (
                report.rows,
                report.granted,
                report.requested,
                report.already,
                report.rejected,
            )
        )
    )
    console.print(table)
    if report.requested:
        console.print(f"Confirmation e-mails queued: {report.requested:,}.")
    if writer.file is not None:
        console.print(f"Rejected rows, with line numbers and reasons: {path}")
