"""A decision's receipt as a page (who, what, when, under which terms, checked on the server
with a Verify button), and checking a receipt the person kept (pasted back in)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from accord.consent import service as consent
from accord.consent.models import LedgerEvent
from accord.core.errors import AccordError, NotFound
from accord.core.signing import public_key_jwk, verify_document
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.forms import handle_form, read_form, show_form
from accord.core.web.templates import render
from accord.people import service as people
from accord.people.deps import PersonDep
from accord.relationships import service
from accord.relationships.history_text import HOW, sentence
from accord.relationships.page_forms import local_text
from accord.relationships.receipts_view import controller_for, receipt_for

router = APIRouter(
    tags=["portal pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)

PAGE = "relationships/receipt.html"
CHECK = "relationships/receipt_check.html"
MAX_RECEIPT = 65_536
LAWFUL_BASIS = {
    "consent": "your consent",
    "contract": "what you asked for (a contract)",
}


def _event(session: Session, person_id: uuid.UUID, seq: int) -> LedgerEvent:
    found = next((e for e in consent.events_for(session, person_id) if e.seq == seq), None)
    if found is None:
        raise NotFound("No such decision in your history.")
    return found


def _what(session: Session, body: dict[str, Any], zone: str, locale: str) -> str:
    brand_names = {str(b.id): b.name for b in service.directory(session)}
    topics: dict[str, str] = {}
    if body.get("brand") and str(body["brand"]) in brand_names:
        found = service.brand_topics(session, uuid.UUID(str(body["brand"])))
        topics = {str(t.id): t.name for t in found}
    raw = body.get("value", {}).get("until")
    until = (
        local_text(datetime.fromisoformat(str(raw).replace("Z", "+00:00")), zone, locale)
        if raw
        else ""
    )
    return sentence(body, brand_names, topics, until)


def _checks(request: Request, session: Session, person_id: uuid.UUID, seq: int) -> list[Any]:
    """(what was checked, passed?, in words) for one decision, all on the server."""
    event = _event(session, person_id, seq)
    try:
        document = receipt_for(session, request, event)
    except AccordError:
        document = None
    key = public_key_jwk(consent.instance_signing_key(request))
    _, breaks = consent.verify(session, subject=person_id)
    broken = next((b for b in breaks if b.seq <= seq), None)
    return [
        (
            "The decision matches its record",
            document is not None and consent.ledger_link_ok(document),
            "Its record hashes to the hash in your chain of decisions."
            if document is not None
            else "Its record does not match its hash: it was changed after it was made.",
        ),
        (
            "The signature is valid",
            document is not None and verify_document(document, [key]),
            f"Signed with this Accord's key {key['kid']}, published at "
            "/.well-known/accord-keys.json.",
        ),
        (
            "Your chain of decisions is intact up to here",
            broken is None,
            "Every earlier decision links to the one before it."
            if broken is None
            else f"The chain breaks at decision {broken.seq}: {broken.reason}.",
        ),
    ]


def _context(request: Request, session: Session, person_id: uuid.UUID, seq: int) -> Any:
    event = _event(session, person_id, seq)
    body = consent.body_of(event)
    me = people.get_person(session, person_id)
    controller = controller_for(session, event, request.app.state.settings.email_from)
    scope = body.get("scope", {})
    purposes = [scope["purpose"]] if scope.get("purpose") else []
    return {
        "seq": seq,
        "who": me.email,
        "controller": controller,
        "what": _what(session, body, me.time_zone, me.locale),
        "state": consent.event_state(body["action"]),
        "how": HOW.get(body["source"], body["source"]),
        "method": consent.COLLECTION_METHODS.get(body["source"], body["source"]),
        "when": local_text(event.occurred_at, me.time_zone, me.locale),
        "policy": body.get("policy"),
        "purposes": purposes,
        "basis": {
            p: LAWFUL_BASIS["contract" if p == "transactional" else "consent"] for p in purposes
        },
        "evidence": sorted(body.get("evidence", {})),
        "hash": event.hash,
    }


@router.get("/history/{seq}", response_class=HTMLResponse)
def receipt_page(
    seq: int, request: Request, person: PersonDep, session: SessionDep, verify: str = ""
) -> HTMLResponse:
    """One decision as a page; `?verify=1` (the Verify button) checks it on the server."""
    context = _context(request, session, person.person_id, seq)
    context["checks"] = _checks(request, session, person.person_id, seq) if verify else None
    return render(request, PAGE, context)


@dataclass(frozen=True)
class Kept:
    document: dict[str, Any]


def _kept(values: dict[str, str]) -> Kept | dict[str, str]:
    """A pasted receipt as JSON, or what is wrong with it beside the field."""
    text = values["receipt"].strip()
    if not text:
        return {"receipt": "Paste the receipt you kept (the text of the JSON file)."}
    if len(text) > MAX_RECEIPT:
        return {"receipt": f"Use {MAX_RECEIPT} characters or fewer: a receipt is smaller."}
    try:
        document = json.loads(text)
    except ValueError:
        return {"receipt": "This is not a receipt: a receipt is a JSON file from Accord."}
    if not isinstance(document, dict) or not isinstance(document.get("signature"), dict):
        return {"receipt": "This is not a signed receipt: it has no signature."}
    return Kept(document)


@router.get("/receipts/check", response_class=HTMLResponse)
def check_form(request: Request, person: PersonDep) -> HTMLResponse:
    return show_form(request, CHECK, {"receipt": ""}, result=None)


@router.post("/receipts/check", response_class=HTMLResponse)
async def check(request: Request, person: PersonDep, session: SessionDep) -> Response:
    """Check a kept receipt against this Accord's key; nothing is stored."""

    values = await read_form(request, ["receipt"])

    def act(found: Kept) -> Response:
        document = found.document
        key = public_key_jwk(consent.instance_signing_key(request))
        signed = verify_document(document, [key])
        linked = "ledger" not in document or consent.ledger_link_ok(document)
        result = {
            "valid": signed and linked,
            "signed": signed,
            "linked": linked,
            "id": str(document.get("consentReceiptID", "")),
        }
        return show_form(request, CHECK, values, result=result)

    return await handle_form(
        request,
        session,
        _kept,
        act,
        template=CHECK,
        values=values,
        context=lambda: {"result": None},
    )
