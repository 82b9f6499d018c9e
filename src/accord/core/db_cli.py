"""`accord db upgrade|downgrade|current`: the schema's revision."""

from __future__ import annotations

from typing import Annotated

import typer

from accord.core.cli_helpers import console, load_settings

db_app = typer.Typer(help="Database schema: upgrade, downgrade, current revision.")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema up to date (creates the SQLite file if needed)."""
    from accord.core import migrate
    from accord.core.db import Database

    db = Database.from_settings(load_settings())
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
    from accord.core.db import Database

    db = Database.from_settings(load_settings())
    migrate.downgrade(db.engine, revision)
    console.print(f"Database is at revision [bold]{migrate.current_revision(db.engine)}[/].")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the one this code needs."""
    from accord.core import revisions

    url = load_settings().resolved_database_url()
    try:
        current = revisions.current_revision(url)
    except ValueError:  # another kind of URL: ask SQLAlchemy and Alembic
        from accord.core import migrate
        from accord.core.db import make_engine

        current = migrate.current_revision(make_engine(url))
    print(f"database: {current}  code: {revisions.head_revision()}")
