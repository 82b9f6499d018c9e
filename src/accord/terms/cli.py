"""`accord terms verify FILE`: check a signed agreement record offline; `accord terms roster`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from accord.core.cli_helpers import cli_errors, console, fail, load_settings

terms_app = typer.Typer(
    help="Personal terms: the roster and signed agreements.", no_args_is_help=True
)


def _read_json(source: str) -> Any:
    if source.startswith(("https://", "http://")):
        import httpx

        try:
            response = httpx.get(source, timeout=10, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise fail(f"Cannot fetch {escape(source)}: {escape(str(exc))}") from None
        text = response.text
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise fail(f"No such file: {escape(source)}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"Cannot read {escape(source)}: {escape(str(exc))}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"{escape(source)} is not valid JSON ({exc.msg}, line {exc.lineno}).") from None


@terms_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The agreement record (JSON).")],
    keys: Annotated[
        list[str] | None,
        typer.Option(
            "--keys",
            metavar="KEYS_JSON_FILE_OR_URL",
            help='A document with a list of JWKs under "keys": the instance\'s '
            "/.well-known/accord-keys.json and the brand's /.well-known/accord-terms/<slug>.json "
            "(give --keys for each). Without it, the keys inside the record are used: that "
            "proves the record was not changed, not who signed it.",
        ),
    ] = None,
) -> None:
    """Check both signatures of an agreement record (the instance's and the brand's)."""
    from accord.terms.records import verify as verify_record

    name = escape(str(file))
    document = _read_json(str(file))
    trusted: list[Any] | None = None
    if keys:
        trusted = []
        for source in keys:
            found = _read_json(source)
            listed = found.get("keys") if isinstance(found, dict) else None
            if not isinstance(listed, list):
                raise fail(f'{escape(source)} is not a keys document: expected {{"keys": [...]}}.')
            trusted += listed
    verdict = verify_record(document, trusted)
    if not verdict.ok:
        raise fail(f"{name}: {escape(verdict.message)}.")
    terms = document.get("terms", {})
    parties = document.get("first_party", {}), document.get("second_party", {})
    pinned = "trusted keys given" if trusted is not None else "keys carried by the record"
    console.print(
        f"[bold green]Valid[/] agreement {escape(str(document.get('agreement')))}: "
        f"{escape(str(terms.get('id')))} version {escape(str(terms.get('version')))} between "
        f"person {escape(str(parties[0].get('id')))} and {escape(str(parties[1].get('name')))}, "
        f"accepted {escape(str(document.get('accepted_at')))}; signed by the instance "
        f"(key {escape(verdict.kids['instance'] if verdict.kids else '')}) and the brand "
        f"(key {escape(verdict.kids['brand'] if verdict.kids else '')}), checked with {pinned}.",
        soft_wrap=True,
    )


@terms_app.command("roster")
def roster() -> None:
    """List the roster: every personal agreement, each version, and its effects."""
    from rich.table import Table

    from accord.core.db import Database
    from accord.terms import service as terms

    with cli_errors(), Database.from_settings(load_settings()).transaction() as session:
        entries = terms.roster_entries(session)
    table = Table("id", "version", "title", "follows", "effects")
    for entry in entries:
        effects = ", ".join(e.value for e in entry.effects)
        table.add_row(entry.slug, str(entry.version), entry.title, entry.follows or "", effects)
    console.print(table)
