"""`accord analytics import`, `accord analytics fit`, `accord analytics report`."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from accord.analytics import service
from accord.analytics.importer import FORMATS, import_csv
from accord.brands import service as brands
from accord.core.cli_helpers import cli_errors, console, fail, load_settings
from accord.core.db import Database
from accord.core.errors import InvalidInput

analytics_app = typer.Typer(help="Transactions, customer-base models (CLV) and equity.")


class Model(StrEnum):
    bgnbd = "bgnbd"
    paretonbd = "paretonbd"


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, field = pair.rpartition("=")
        if not sep or not column or not field:
            raise fail(f"--map takes COLUMN=FIELD, not {pair!r}")
        mapping[column] = field.strip().lower()
    return mapping


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} must be a date (YYYY-MM-DD), not {value!r}") from None


@analytics_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The file.")],
    brand: Annotated[str, typer.Option(help="The brand's slug.")],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="COLUMN=FIELD, repeatable; columns named like a field map "
            "themselves. Fields: customer, time, amount, currency, channel, order_id, "
            "product, cost, quantity, refund, email.",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")] = "csv",
    order_id: Annotated[
        str, typer.Option("--order-id", help="'auto': ids from customer, date and line number.")
    ] = "",
    rejects: Annotated[
        Path | None, typer.Option(help="Where bad rows go (default: var/rejects/…).")
    ] = None,
    currency: Annotated[str, typer.Option(help="Currency of rows without one.")] = "USD",
    chunk: Annotated[int, typer.Option(min=1, help="Rows per set-based write.")] = 50_000,
) -> None:
    """Import transactions from a CSV (or CDNOW) file; bad rows go to a rejects file."""
    if order_id not in ("", "auto"):
        raise fail("--order-id takes only 'auto'")
    mapping = _mapping(map_ or [])
    settings = load_settings()
    with cli_errors(), Database.from_settings(settings).transaction() as session:
        found = brands.get_brand_by_slug(session, brand)
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
        with Progress(*columns, TimeRemainingColumn(), console=console) as bar:
            task = bar.add_task(f"Importing {file.name}", total=None)
            report = import_csv(
                session,
                settings,
                found.id,
                file,
                mapping,
                rejects,
                chunk,
                lambda done, total: bar.update(task, completed=done, total=total),
                fmt=fmt,
                order_id_auto=order_id == "auto",
                currency=currency,
            )
    table = Table(title=f"Import into {found.slug}")
    table.add_column("rows read", justify="right")
    table.add_column("imported", justify="right")
    table.add_column("already stored", justify="right")
    table.add_column("rejected", justify="right")
    table.add_row(
        *(
            f"{n:,}"
            for n in (report.rows, report.imported, report.duplicates_skipped, report.rejected)
        )
    )
    console.print(table)
    if report.rejects_path is not None:
        console.print(f"Rejected rows, with line numbers and reasons: {report.rejects_path}")


def _money(value: float | None) -> str:
    return "not shown (fewer than 5)" if value is None else f"{value:,.2f}"


def print_fit(result: service.FitResult) -> None:
    """The fit's parameters, log-likelihood and segment equity as rich tables."""
    title = f"{result.model} fit {result.fit_id}"
    params = Table(title=title)
    params.add_column("figure")
    params.add_column("value", justify="right")
    rows = [
        ("customers", f"{result.customers:,}"),
        ("calibration", f"{result.calibration_start} to {result.cutoff}"),
        *((name, f"{value:.4f}") for name, value in result.params.items()),
        ("log-likelihood", f"{result.log_likelihood:.2f}" if result.log_likelihood else "-"),
    ]
    if result.spend_params is not None:
        rows += [(f"spend {k}", f"{v:.4f}") for k, v in result.spend_params.items()]
        rows.append(("spend log-likelihood", f"{result.spend_log_likelihood or 0:.2f}"))
    rows += [
        ("horizon", f"{result.horizon_months} months"),
        ("discount rate", f"{result.discount_monthly:.2%} a month"),
        ("margin", f"{result.margin:.0%}"),
        ("currency", result.currency or "-"),
        ("people scored (profiling granted)", f"{result.scored:,}"),
    ]
    for row in rows:
        params.add_row(*row)
    console.print(params)
    equity = Table(title="Customer equity (discounted margin over the horizon)")
    for name in ("segment", "customers", "equity", "consented", "consented equity", "lost"):
        equity.add_column(name, justify="left" if name == "segment" else "right")
    for s in result.segments:
        equity.add_row(
            s.segment,
            f"{s.customers:,}",
            _money(s.equity),
            f"{s.consented_customers:,}",
            _money(s.consented_equity),
            _money(s.lost_equity),
        )
    console.print(equity)
    if result.withheld:
        console.print(
            f"Not shown (fewer than 5 people behind a figure): {', '.join(result.withheld)}"
        )


@analytics_app.command("fit")
def fit_command(
    brand: Annotated[str, typer.Option(help="The brand's slug.")],
    cutoff: Annotated[str, typer.Option(help="Last calibration day, YYYY-MM-DD.")],
    start: Annotated[
        str | None, typer.Option(help="Only customers whose first purchase is on or after.")
    ] = None,
    model: Annotated[Model, typer.Option(help="Purchase model.")] = Model.bgnbd,
    spend: Annotated[bool, typer.Option(help="Fit Gamma-Gamma for spend.")] = True,
    discount: Annotated[float, typer.Option(help="Monthly discount rate.")] = 0.01,
    margin: Annotated[float, typer.Option(help="Margin on spend, 0-1.")] = 0.3,
    horizon: Annotated[int, typer.Option(help="CLV horizon in months.")] = 12,
    currency: Annotated[str | None, typer.Option(help="With several currencies.")] = None,
) -> None:
    """Fit the purchase and spend models; print parameters, log-likelihood and equity."""
    cut, begin = _day(cutoff, "--cutoff"), _day(start, "--start")
    assert cut is not None
    with cli_errors(), Database.from_settings(load_settings()).transaction() as session:
        found = brands.get_brand_by_slug(session, brand)
        with console.status("Fitting…"):
            result = service.fit(
                session,
                found.id,
                calibration_start=begin,
                cutoff=cut,
                model=model.value,
                spend=spend,
                discount_monthly=discount,
                margin=margin,
                horizon_months=horizon,
                currency=currency,
            )
        print_fit(result)


@analytics_app.command("report")
def report_command(brand: Annotated[str, typer.Option(help="The brand's slug.")]) -> None:
    """Print the latest fit's figures, segment equity and holdout check."""
    with cli_errors(), Database.from_settings(load_settings()).transaction() as session:
        found = brands.get_brand_by_slug(session, brand)
        result = service.equity(session, found.id)
        if result is None:
            raise fail(f"No fit for {found.slug} yet: run `accord analytics fit`.")
        print_fit(result)
        try:
            held = service.holdout(session, found.id, result.fit_id)
        except InvalidInput:
            return
        console.print(
            f"Holdout {held.cutoff} to {held.holdout_end}: expected "
            f"{held.expected:,.1f} repeat purchases, actual {held.actual:,}."
        )
