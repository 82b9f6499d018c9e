"""The inbound endpoints, wired to the domains that take what arrives: part of the composition
root (with `accord.app`, `accord.cli`, `accord.models` and `accord.serving`).

`accord inbound-smtp` receives bounces, complaints and mailto unsubscribes (delivery) and the
replies to conversation threads (conversations), which delivery never imports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from accord.core.settings import Settings

if TYPE_CHECKING:
    from accord.delivery.inbound_smtp import MailRoute


def mail_routes(settings: Settings) -> list[MailRoute]:
    from accord.conversations.inbound_mail import ReplyRoute

    return [ReplyRoute(settings)]


def inbound_smtp(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 2525,
) -> None:
    """Receive bounces, complaints, mailto unsubscribes and replies to conversations by SMTP."""
    from accord.core.cli_helpers import load_settings
    from accord.delivery.cli import run_inbound_smtp

    settings = load_settings()
    run_inbound_smtp(settings, host, port, mail_routes(settings))
