"""`accord receipt verify`: check a consent receipt's signature, offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from accord.consent.receipts import ledger_link_ok
from accord.core.cli_helpers import cli_errors, console, fail, load_settings
from accord.core.signing import (
    SigningKeyError,
    public_key_jwk,
    read_signing_key,
    signing_key_path,
    verify_document,
)

receipt_app = typer.Typer(help="Consent receipts.", no_args_is_help=True)


def _parse(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"{what} is not valid JSON ({exc.msg}, line {exc.lineno}).") from None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail(f"No such file: {escape(str(path))}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"Cannot read {escape(str(path))}: {escape(str(exc))}") from None


def _fetch(url: str) -> str:
    import httpx

    try:
        response = httpx.get(url, timeout=10, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise fail(f"Cannot fetch {escape(url)}: {escape(str(exc))}") from None
    return response.text


def _keys_from(source: str) -> list[Any]:
    remote = source.startswith(("https://", "http://"))
    text = _fetch(source) if remote else _read(Path(source))
    document = _parse(text, escape(source))
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise fail(f'{escape(source)} is not a keys document: expected {{"keys": [...]}}.')
    return keys


def _local_keys() -> list[Any]:
    """The key this instance signs with; never created here, since a new key proves nothing."""
    with cli_errors():
        path = signing_key_path(load_settings())
    if not path.exists():
        raise fail(
            f"No signing key at {escape(str(path))}. Pass --keys with the issuing instance's "
            "/.well-known/accord-keys.json."
        )
    try:
        return [public_key_jwk(read_signing_key(path))]
    except SigningKeyError as exc:
        raise fail(escape(str(exc))) from None


def _first_event(receipt: dict[str, Any]) -> dict[str, Any]:
    events = receipt.get("events")
    if isinstance(events, list) and events and isinstance(events[0], dict):
        return events[0]
    return {}


@receipt_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The receipt, a JSON file.")],
    keys: Annotated[
        str | None,
        typer.Option(
            "--keys",
            metavar="KEYS_JSON_FILE_OR_URL",
            help='A keys document (JSON with a list of JWKs under "keys"), e.g. the issuing '
            "instance's /.well-known/accord-keys.json. Default: this instance's own key.",
        ),
    ] = None,
) -> None:
    """Check that FILE was signed by a trusted key and not changed since."""
    name = escape(str(file))
    receipt = _parse(_read(file), name)
    if not isinstance(receipt, dict):
        raise fail(f"{name} is not a receipt: expected a JSON object.")
    signature = receipt.get("signature")
    if not isinstance(signature, dict) or not isinstance(signature.get("kid"), str):
        raise fail(f'{name} is not signed: it has no "signature" member.')
    jwks = _keys_from(keys) if keys is not None else _local_keys()
    kid = escape(signature["kid"])
    if not any(isinstance(jwk, dict) and jwk.get("kid") == signature["kid"] for jwk in jwks):
        raise fail(f"{name} is signed by key {kid}, which is not among the trusted keys.")
    if not verify_document(receipt, jwks):
        raise fail(f"{name} does not match its signature: it was changed after signing.")
    if "ledger" in receipt and not ledger_link_ok(receipt):
        raise fail(f"{name} is signed, but its ledger event does not hash to its ledger hash.")
    event = _first_event(receipt)
    console.print(
        f"[bold green]Valid[/] receipt {escape(str(receipt.get('consentReceiptID')))}: "
        f"subject {escape(str(receipt.get('piiPrincipalId')))}, "
        f"{escape(str(event.get('event_type')))} → {escape(str(event.get('event_state')))} "
        f"at {escape(str(event.get('event_time')))} (key {kid}).",
        soft_wrap=True,
    )
