"""`accord campaign list|show|send|cancel|pause|resume`: campaigns from the command line."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.campaigns import control, report, service
from accord.campaigns.models import Campaign
from accord.core.cli_helpers import cli_errors, console, fail, load_settings
from accord.core.db import Database

campaign_app = typer.Typer(help="Campaigns: list, show, send, cancel, pause, resume.")

BrandOption = Annotated[str, typer.Option(help="The brand's slug.")]
IdArgument = Annotated[str, typer.Argument(help="The campaign's id (from `accord campaign list`).")]


def _id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise fail(f"{value!r} is not a campaign id (see `accord campaign list`).") from None


@campaign_app.command("list")
def list_command(
    brand: BrandOption,
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many, newest first.")] = 50,
) -> None:
    """The brand's campaigns, newest first."""
    with cli_errors(), Database.from_settings(load_settings()).transaction() as session:
        found = brands.get_brand_by_slug(session, brand)
        rows, _ = service.listing(session, found.id, limit=limit)
        table = Table(title=f"Campaigns of {found.slug}")
        table.add_column("id", no_wrap=True, min_width=36)  # copied into the other commands
        for name in ("name", "channel", "state", "created"):
            table.add_column(name)
        for c in rows:
            table.add_row(str(c.id), c.name, c.channel, c.state, f"{c.created_at:%Y-%m-%d %H:%M}")
    console.print(table)


@campaign_app.command("show")
def show_command(campaign: IdArgument, brand: BrandOption) -> None:
    """One campaign: its state, its audience by reason and its messages by state."""
    with cli_errors(), Database.from_settings(load_settings()).transaction() as session:
        found = brands.get_brand_by_slug(session, brand)
        c = service.get(session, found.id, _id(campaign))
        built = report.build(session, c)
        console.print(f"[bold]{c.name}[/] ({c.id})")
        console.print(f"state: {c.state}   channel: {c.channel}   schedule: {c.schedule_kind}")
        table = Table(title="Messages")
        table.add_column("state")
        table.add_column("count", justify="right")
        for state, n in sorted(built.states.items()):
            table.add_row(state, f"{n:,}")
        console.print(table)
        if built.skipped_by_reason:
            reasons = ", ".join(f"{r} {n:,}" for r, n in sorted(built.skipped_by_reason.items()))
            console.print(f"kept back by the gate: {reasons}")


def _act(campaign: str, brand: str, action: Callable[[Session, Campaign], Campaign]) -> None:
    with cli_errors(), Database.from_settings(load_settings()).transaction() as session:
        found = brands.get_brand_by_slug(session, brand)
        c = action(session, service.get(session, found.id, _id(campaign)))
        console.print(f"{c.name}: {c.state}")


@campaign_app.command("send")
def send_command(campaign: IdArgument, brand: BrandOption) -> None:
    """Schedule a draft (at its time, or now); a worker resolves and sends it."""
    _act(campaign, brand, service.send)


@campaign_app.command("cancel")
def cancel_command(campaign: IdArgument, brand: BrandOption) -> None:
    """Stop everything not yet handed to a channel."""
    _act(campaign, brand, service.cancel)


@campaign_app.command("pause")
def pause_command(campaign: IdArgument, brand: BrandOption) -> None:
    """Hold a scheduled or sending campaign until it is resumed."""
    _act(campaign, brand, control.pause)


@campaign_app.command("resume")
def resume_command(campaign: IdArgument, brand: BrandOption) -> None:
    """Let a paused campaign go on where it stopped."""
    _act(campaign, brand, control.resume)
