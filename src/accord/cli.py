"""The `accord` command: the root of the command line, part of the composition root.

Each command lives in its domain and is imported only when it runs: `accord --help` and
`accord --version` load typer and nothing of Accord's domains, SQLAlchemy or FastAPI. A new
command is one line in COMMANDS: its name, where it lives and its one-line help."""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
import typer.core
import typer.main

import accord

# name: ("module:attribute", help shown by `accord --help`). The attribute is a Typer app
# (a group of sub-commands) or a function (one command).
COMMANDS: dict[str, tuple[str, str]] = {
    "analytics": (
        "accord.analytics.cli:analytics_app",
        "Transactions, customer-base models (CLV) and equity.",
    ),
    "apikey": ("accord.brands.cli:apikey_app", "API keys for brand systems."),
    "brand": ("accord.brands.cli:brand_app", "Brands (tenants)."),
    "campaign": (
        "accord.campaigns.cli:campaign_app",
        "Campaigns: list, show, send, cancel, pause, resume.",
    ),
    "compliance": (
        "accord.compliance.cli:compliance_app",
        "Legal rules as data: sending windows, frequency limits, consent.",
    ),
    "db": ("accord.core.db_cli:db_app", "Database schema: upgrade, downgrade, current revision."),
    "demo": (
        "accord.serving:demo",
        "Migrate the database, load the demo data (safe to run again) and serve Accord.",
    ),
    "conversations": (
        "accord.conversations.cli:conversations_app",
        "Conversations: the members' digest e-mails.",
    ),
    "inbound-smtp": (
        "accord.inbound:inbound_smtp",
        "Receive bounces, complaints, mailto unsubscribes and replies to conversations by SMTP.",
    ),
    "ledger": ("accord.consent.cli:ledger_app", "The hash-chained consent ledger."),
    "member": ("accord.brands.cli:member_app", "Brand members (staff users)."),
    "receipt": ("accord.consent.receipts_cli:receipt_app", "Signed consent receipts."),
    "relationships": (
        "accord.relationships.cli:relationships_app",
        "Relationships and consent: import opt-ins with their evidence from another system.",
    ),
    "serve": (
        "accord.serving:serve",
        "Serve the web pages and the REST API (refuses to start on an outdated schema).",
    ),
    "terms": (
        "accord.terms.cli:terms_app",
        "Personal terms: the roster, and checking a signed agreement offline.",
    ),
    "worker": (
        "accord.delivery.worker_cli:worker",
        "Deliver messages: resolve due campaigns, claim due outbox rows, re-check the gate, send.",
    ),
}


def load_command(name: str) -> Any:
    """The click command for NAME, importing its module now."""
    target, help_text = COMMANDS[name]
    module_name, attribute = target.split(":")
    found = getattr(importlib.import_module(module_name), attribute)
    command: Any
    if isinstance(found, typer.Typer):
        command = typer.main.get_group(found)
    else:
        single = typer.Typer()
        single.command(name, help=help_text)(found)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(typer.core.TyperGroup):
    """Lists every command from COMMANDS; imports one only when it runs."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in COMMANDS:
            return load_command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # The short help comes from COMMANDS, so that `accord --help` imports no command.
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name="accord",
    cls=LazyGroup,
    help="Accord: a customer-managed relationship platform. Every command reads ACCORD_* "
    "settings from the environment (ACCORD_DATABASE_URL picks the database).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"accord {accord.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Accord's command line."""


def build() -> typer.Typer:
    """The root command (kept for tests and tools that want the Typer app)."""
    return app


def main() -> None:
    app()
