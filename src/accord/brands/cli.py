"""`accord brand create`, `accord member add`, `accord apikey create`."""

from __future__ import annotations

from typing import Annotated

import typer

from accord.brands import service
from accord.brands.schemas import ApiKeyCreate, BrandCreate, MemberCreate
from accord.core.cli_helpers import cli_errors, console, load_settings
from accord.core.db import Database
from accord.core.permissions import Role

brand_app = typer.Typer(help="Brands (tenants).")
member_app = typer.Typer(help="Brand members (staff users).")
apikey_app = typer.Typer(help="API keys for brand systems.")


@brand_app.command("create")
def brand_create(
    name: Annotated[str, typer.Option(help="Display name.")],
    slug: Annotated[str, typer.Option(help="Short unique id: lower-case letters, digits, -.")],
    sender_email: Annotated[str, typer.Option(help="From address of the brand's e-mail.")],
    support_email: Annotated[str, typer.Option(help="Where people reach the brand.")],
    sender_name: Annotated[str, typer.Option(help="From name; defaults to NAME.")] = "",
    postal_address: Annotated[str, typer.Option(help="Required before marketing e-mail.")] = "",
    kind: Annotated[str, typer.Option(help="What the brand does.")] = "",
) -> None:
    """Create a brand."""
    with cli_errors():
        data = BrandCreate(
            name=name,
            slug=slug,
            kind=kind,
            sender_name=sender_name or name,
            sender_email=sender_email,
            support_email=support_email,
            postal_address=postal_address or None,
        )
        settings = load_settings()
        with Database.from_settings(settings).transaction() as session:
            brand = service.create_brand(session, data, secret=settings.resolved_secret_key())
            console.print(f"Created brand [bold]{brand.name}[/] ({brand.slug}), id {brand.id}.")


@member_app.command("add")
def member_add(
    brand: Annotated[str, typer.Option(help="The brand's slug.")],
    email: Annotated[str, typer.Option(help="The member's e-mail address.")],
    role: Annotated[Role, typer.Option(help="What the member may do.")] = Role.marketer,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: Annotated[
        str,
        typer.Option(
            help="At least 12 characters; omit to sign in by e-mailed link only.",
            envvar="ACCORD_MEMBER_PASSWORD",
        ),
    ] = "",
) -> None:
    """Add a member to a brand."""
    with cli_errors():
        data = MemberCreate(email=email, display_name=name, role=role, password=password or None)
        with Database.from_settings(load_settings()).transaction() as session:
            found = service.get_brand_by_slug(session, brand)
            member = service.add_member(session, found.id, data)
            console.print(f"Added [bold]{member.email}[/] to {found.slug} as {member.role}.")


@apikey_app.command("create")
def apikey_create(
    brand: Annotated[str, typer.Option(help="The brand's slug.")],
    name: Annotated[str, typer.Option(help="What uses the key.")],
    role: Annotated[Role, typer.Option(help="What the key may do.")] = Role.marketer,
) -> None:
    """Create an API key and print it once (only its hash is kept)."""
    with cli_errors():
        data = ApiKeyCreate(name=name, role=role)
        with Database.from_settings(load_settings()).transaction() as session:
            found = service.get_brand_by_slug(session, brand)
            key, secret = service.create_api_key(session, found.id, data, created_by=None)
            console.print(f"API key [bold]{key.name}[/] for {found.slug} ({key.role}):")
            print(secret)
            console.print("[dim]Store it now; Accord cannot show it again.[/]")


@brand_app.command("rotate-key")
def brand_rotate_key(
    brand: Annotated[str, typer.Option(help="The brand's slug.")],
) -> None:
    """Give the brand a new signing key; the old one stays published for old agreements."""
    with cli_errors():
        settings = load_settings()
        with Database.from_settings(settings).transaction() as session:
            found = service.get_brand_by_slug(session, brand)
            kid = service.rotate_signing_key(session, found.id, settings.resolved_secret_key())
            console.print(f"{found.name} signs with key {kid} from now on.")
