"""What every command module shares: the consoles, settings, and one way to fail.

Kept light (typer, rich, pydantic): each domain's command module imports it, and the root
command (`accord.cli`) imports none of them until that command runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from accord.core.errors import AccordError

if TYPE_CHECKING:
    from accord.core.settings import Settings

console = Console()
err_console = Console(stderr=True)

HostOption = Annotated[str, typer.Option(help="Interface to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.")]


def load_settings() -> Settings:
    from accord.core.settings import Settings

    return Settings()


def fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]Error:[/] {message}")
    return typer.Exit(code=1)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Bad input and domain errors become one clear line and exit code 1, never a traceback."""
    from pydantic import ValidationError

    try:
        yield
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise fail(f"{field}: {first['msg']}") from None
    except AccordError as exc:
        field = f" ({exc.field})" if exc.field else ""
        raise fail(f"{exc.detail}{field}") from None


def settings_for(host: str, port: int) -> Settings:
    """Settings whose base URL follows --host/--port unless ACCORD_BASE_URL says otherwise."""
    settings = load_settings()
    if "base_url" not in settings.model_fields_set:
        settings.base_url = f"http://{host}:{port}"
    return settings
