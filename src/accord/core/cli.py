"""The `accord` command. Each domain adds its own sub-commands; this file only wires them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

import accord
from accord.core.db import Database
from accord.core.errors import AccordError, SchemaBehind
from accord.core.settings import Settings

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="accord",
    help="Accord: a customer-managed relationship platform. Every command reads ACCORD_* "
    "settings from the environment (ACCORD_DATABASE_URL picks the database).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema: upgrade, downgrade, current revision.")
app.add_typer(db_app, name="db")


def _version(value: bool) -> None:
    if value:
        console.print(f"accord {accord.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Accord's command line."""


def load_settings() -> Settings:
    return Settings()


def fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]Error:[/] {message}")
    return typer.Exit(code=1)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Bad input and domain errors become one clear line and exit code 1, never a traceback."""
    try:
        yield
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise fail(f"{field}: {first['msg']}") from None
    except AccordError as exc:
        field = f" ({exc.field})" if exc.field else ""
        raise fail(f"{exc.detail}{field}") from None


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema up to date (creates the SQLite file if needed)."""
    from accord.core import migrate

    settings = load_settings()
    db = Database.from_settings(settings)
    migrate.upgrade(db.engine, revision)
    console.print(
        f"Database [bold]{db.engine.url.render_as_string(hide_password=True)}[/] is at "
        f"revision [bold]{migrate.current_revision(db.engine)}[/]."
    )


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base' for empty.")],
) -> None:
    """Step the schema back to REVISION (data in dropped tables is lost)."""
    from accord.core import migrate

    db = Database.from_settings(load_settings())
    migrate.downgrade(db.engine, revision)
    console.print(f"Database is at revision [bold]{migrate.current_revision(db.engine)}[/].")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the one this code needs."""
    from accord.core import migrate

    db = Database.from_settings(load_settings())
    console.print(
        f"database: {migrate.current_revision(db.engine)}  code: {migrate.head_revision(db.engine)}"
    )


def settings_for(host: str, port: int) -> Settings:
    """Settings whose base URL follows --host/--port unless ACCORD_BASE_URL says otherwise."""
    settings = load_settings()
    if "base_url" not in settings.model_fields_set:
        settings.base_url = f"http://{host}:{port}"
    return settings


def serve_app(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from accord.core.web.app import create_app

    try:
        web_app = create_app(settings)
    except SchemaBehind as exc:
        raise fail(str(exc)) from None
    worker = None
    if settings.worker_in_process:
        from accord.delivery.worker import Worker

        # The embedded default needs no second process: one worker runs beside the web app.
        worker = Worker(web_app.state.db, settings)
        worker.start_thread()
    try:
        uvicorn.run(web_app, host=host, port=port, log_level="info")
    finally:
        if worker is not None:
            worker.stop.set()


HostOption = Annotated[str, typer.Option(help="Interface to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.")]


@app.command()
def serve(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Serve the web pages and the REST API (refuses to start on an outdated schema)."""
    serve_app(settings_for(host, port), host, port)


_registered = False


def build() -> typer.Typer:
    """The root command with every domain's sub-commands added (once)."""
    global _registered
    if not _registered:
        from accord.analytics.cli import register as register_analytics
        from accord.brands.cli import register as register_brands
        from accord.consent.cli import register as register_ledger
        from accord.consent.receipts_cli import register as register_receipts
        from accord.delivery.cli import register as register_inbound
        from accord.delivery.worker_cli import register as register_worker
        from accord.demo.cli import register as register_demo

        for register in (
            register_brands,
            register_ledger,
            register_receipts,
            register_worker,
            register_inbound,
            register_demo,
            register_analytics,
        ):
            register(app)
        _registered = True
    return app


def main() -> None:
    build()()
