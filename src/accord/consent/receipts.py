"""Consent receipts: one signed JSON document per ledger event.

The receipt carries the Kantara Consent Receipt v1.1 top-level fields and, beside them, the
sections of an ISO/IEC TS 27560:2023 consent record (`header`, `processing`, `parties`,
`events`), plus a `ledger` section that ties it to the person's hash chain. The person appears
only as the ledger's opaque subject id; nothing in a receipt comes from their profile.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.core.errors import InvalidInput
from accord.core.signing import sign_document

KANTARA_VERSION: Final = "KI-CR-v1.1.0"
ISO_27560: Final = "ISO/IEC TS 27560:2023"
SCHEMA_VERSION: Final = "accord-receipt-1"
KEYS_PATH: Final = "/.well-known/accord-keys.json"

# Fixed forever: changing it would change the id of every receipt ever issued.
RECEIPT_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "urn:accord:consent-receipt")

# ISO/IEC TS 27560 state of the consent after each ledger action. Actions that set preferences
# without giving or taking consent (caps, quiet hours, shared facts, suppressions, terms) and
# any action this table does not know are "recorded".
EVENT_STATES: Final[Mapping[str, str]] = {
    "grant": "given",
    "confirm": "given",  # double opt-in completes an earlier request
    "accept": "given",  # the person accepted a brand's invitation
    "follow": "given",  # the person started the relationship
    "resume": "given",  # the consents held before the pause apply again
    "resume_all": "given",
    "request": "requested",  # recorded by a brand; not valid until the person confirms
    "import_grant": "given",  # imported by a brand with proof of a completed double opt-in
    "import_request": "requested",  # imported without that proof: waits for confirmation
    "invite": "requested",  # a brand asked; the person has not accepted yet
    "withdraw": "withdrawn",
    "end": "withdrawn",  # ending a relationship withdraws every purpose with it
    "pause": "paused",  # consent kept but suspended: nothing may be sent
    "pause_all": "paused",
    "erase": "erased",  # the profile is gone; the ledger keeps the proof
}
RECORDED: Final = "recorded"

# Kantara "collectionMethod" for each ledger source.
COLLECTION_METHODS: Final[Mapping[str, str]] = {
    "portal": "The person's own choice in the Accord portal",
    "api": "Recorded by the brand's system through the Accord API",
    "email_link": "A link in an e-mail sent to the person",
    "one_click": "The one-click unsubscribe link in a message (RFC 8058)",
    "sms_keyword": "A keyword (such as STOP or START) the person sent by SMS",
    "import": "Imported by the brand with evidence of an earlier decision",
    "intent_accept": "The person accepted a brand's offer to their intent",
    "system": "Recorded by Accord itself",
}

# Who acted: the person, the controller on the person's behalf, or the platform.
EVENT_BY: Final[Mapping[str, str]] = {
    "portal": "pii_principal",
    "email_link": "pii_principal",
    "one_click": "pii_principal",
    "sms_keyword": "pii_principal",
    "intent_accept": "pii_principal",
    "api": "pii_controller",
    "import": "pii_controller",
    "system": "accord",
}


@dataclass(frozen=True)
class _Purpose:
    text: str
    category: str  # Kantara v1.1 purpose category
    pii: tuple[str, ...]  # Kantara v1.1 PII categories
    lawful_basis: str
    primary: bool = False
    third_party: bool = False


PURPOSES: Final[Mapping[str, _Purpose]] = {
    "transactional": _Purpose(
        "Messages about what the person asked for, such as orders and receipts",
        "2 - Contracted Service",
        ("2 - Contact",),
        "contract",
        primary=True,
    ),
    "marketing": _Purpose(
        "News, offers and other promotional messages",
        "6 - Marketing",
        ("2 - Contact",),
        "consent",
    ),
    "profiling": _Purpose(
        "Analysing purchases to compute scores about the person (e.g. lifetime value)",
        "5 - Personalize Experience",
        ("7 - Financial",),
        "consent",
    ),
    "sharing": _Purpose(
        "Sharing the person's data with the brand's partners",
        "8 - Sharing for Marketing",
        ("1 - Biographical", "2 - Contact"),
        "consent",
        third_party=True,
    ),
}
ALL_PURPOSES: Final = tuple(PURPOSES)

# Relationship-wide actions without a purpose in scope touch every purpose, except these.
ACTION_PURPOSES: Final[Mapping[str, tuple[str, ...]]] = {
    "follow": ("transactional",),
    "accept": ("transactional",),
    "invite": ("transactional",),
    "set_cap": ("marketing",),
    "set_global_cap": ("marketing",),
    "share": ("profiling",),
}


@dataclass(frozen=True)
class ControllerInfo:
    """The PII controller named on the receipt: the brand, or the instance's operator for
    events that concern no brand (then `brand_id` is None)."""

    name: str
    contact_email: str
    postal_address: str | None
    brand_id: uuid.UUID | None
    jurisdiction: str = "EU"
    phone: str | None = None


def receipt_id(event_hash: str) -> str:
    return str(uuid.uuid5(RECEIPT_NAMESPACE, event_hash))


def event_state(action: str) -> str:
    return EVENT_STATES.get(action, RECORDED)


def event_hash_of(event: Mapping[str, Any]) -> str:
    return hashlib.sha256(rfc8785.dumps(event)).hexdigest()


_FIELDS: Final[Mapping[str, type | tuple[type, ...]]] = {
    "subject": str,
    "seq": int,
    "prev": str,
    "at": str,
    "brand": (str, type(None)),
    "action": str,
    "scope": dict,
    "source": str,
    "policy": (str, type(None)),
    "evidence": dict,
    "value": dict,
}


def _check(event: Mapping[str, Any], event_hash: str, controller: ControllerInfo) -> datetime:
    for name, kind in _FIELDS.items():
        if not isinstance(event.get(name), kind):
            raise InvalidInput(f"Not a ledger event: '{name}' is missing or mistyped.", field=name)
    if event_hash_of(event) != event_hash:
        raise InvalidInput("The event hash does not match the event.", field="event_hash")
    brand = str(controller.brand_id) if controller.brand_id else None
    if brand != event["brand"]:
        raise InvalidInput("The controller is not the event's brand.", field="controller")
    try:
        moment = datetime.fromisoformat(event["at"])
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput("The event time is not an ISO 8601 UTC time.", field="at")
    return moment


def _purpose(name: str) -> _Purpose:
    return PURPOSES.get(name) or _Purpose(f"Purpose '{name}'", name, (), "consent")


def _purposes_of(event: Mapping[str, Any]) -> tuple[str, ...]:
    purpose = event["scope"].get("purpose")
    if isinstance(purpose, str):
        return (purpose,)
    return ACTION_PURPOSES.get(event["action"], ALL_PURPOSES)


def _termination(name: str) -> str:
    if name == "transactional":
        return "When the relationship ends or the person's account is erased"
    return "When the person withdraws it, ends the relationship or has their account erased"


def _withdrawal(instance_url: str, purposes: tuple[str, ...], channel: Any) -> dict[str, str]:
    url = f"{instance_url}/relationships"
    ways = [f"on the relationships page at {url}"]
    if "marketing" in purposes:
        ways.append("with the one-click unsubscribe link in every message")
    if channel == "sms":
        ways.append("by replying STOP to any text message")
    text = "Withdraw at any time, as easily as it was given: " + "; or ".join(ways) + "."
    return {"description": text, "url": url}


def _kantara_purpose(name: str) -> dict[str, Any]:
    info = _purpose(name)
    block: dict[str, Any] = {
        "purpose": info.text,
        "purposeCategory": [info.category],
        "consentType": "EXPLICIT",
        "piiCategory": list(info.pii),
        "primaryPurpose": info.primary,
        "termination": _termination(name),
        "thirdPartyDisclosure": info.third_party,
    }
    if info.third_party:
        block["thirdPartyName"] = "The brand's partners, as named in its privacy notice"
    return block


def _iso_purpose(name: str) -> dict[str, Any]:
    info = _purpose(name)
    return {
        "purpose": name,
        "description": info.text,
        "purpose_category": info.category,
        "lawful_basis": info.lawful_basis,
        "pii_categories": list(info.pii),
    }


def build_receipt(
    event: Mapping[str, Any],
    event_hash: str,
    *,
    controller: ControllerInfo,
    instance_url: str,
    policy_url: str | None,
    language: str = "en",
) -> dict[str, Any]:
    """The unsigned receipt for one ledger event; the same event always gives the same bytes."""
    moment = _check(event, event_hash, controller)
    body = copy.deepcopy(dict(event))
    instance_url = instance_url.rstrip("/")
    rid = receipt_id(event_hash)
    subject, action, source, scope = body["subject"], body["action"], body["source"], body["scope"]
    purposes = _purposes_of(body)
    controller_id = str(controller.brand_id) if controller.brand_id else instance_url
    state = event_state(action)
    return {
        "version": KANTARA_VERSION,
        "jurisdiction": controller.jurisdiction,
        "consentTimestamp": int(moment.timestamp()),
        "collectionMethod": COLLECTION_METHODS.get(source, f"Accord source '{source}'"),
        "consentReceiptID": rid,
        "publicKey": f"{instance_url}{KEYS_PATH}",
        "language": language,
        "piiPrincipalId": subject,
        "piiControllers": [
            {
                "piiController": controller.name,
                "onBehalf": False,
                "contact": controller.name,
                "address": controller.postal_address,
                "email": controller.contact_email,
                "phone": controller.phone,
            }
        ],
        "policyUrl": policy_url,
        "services": [
            {
                "service": f"Relationship with {controller.name} on Accord",
                "purposes": [_kantara_purpose(name) for name in purposes],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        "header": {
            "standard": ISO_27560,
            "schema_version": SCHEMA_VERSION,
            "record_id": rid,
            "pii_principal_id": subject,
            "language": language,
        },
        "processing": {
            "purposes": [_iso_purpose(name) for name in purposes],
            "scope": {key: scope.get(key) for key in ("purpose", "channel", "topic")},
            "controllers": [controller_id],
            "jurisdiction": controller.jurisdiction,
            "privacy_notice": {"version": body["policy"], "url": policy_url},
            "withdrawal_method": _withdrawal(instance_url, purposes, scope.get("channel")),
        },
        "parties": [
            {"party_id": subject, "role": "pii_principal"},
            {"party_id": controller_id, "role": "pii_controller", "name": controller.name},
        ],
        "events": [
            {
                "event_time": body["at"],
                "event_type": action,
                "event_state": state,
                "event_by": EVENT_BY.get(source, "unknown"),
                "collection_method": source,
                "notice_version": body["policy"],
                "evidence": sorted(body["evidence"]),
                "details": copy.deepcopy(body["value"]),
            }
        ],
        "ledger": {
            "instance": instance_url,
            "subject": subject,
            "seq": body["seq"],
            "prev": body["prev"],
            "hash": event_hash,
            "hash_alg": "SHA-256 over the RFC 8785 canonical JSON of `event`",
            "event": body,
        },
    }


def signed_receipt(
    event: Mapping[str, Any],
    event_hash: str,
    *,
    controller: ControllerInfo,
    instance_url: str,
    policy_url: str | None,
    key: Ed25519PrivateKey,
    language: str = "en",
) -> dict[str, Any]:
    receipt = build_receipt(
        event,
        event_hash,
        controller=controller,
        instance_url=instance_url,
        policy_url=policy_url,
        language=language,
    )
    return sign_document(receipt, key)


def ledger_link_ok(receipt: Any) -> bool:
    """Whether the embedded ledger event hashes to the receipt's ledger hash (no exceptions)."""
    ledger = receipt.get("ledger") if isinstance(receipt, Mapping) else None
    if not isinstance(ledger, Mapping) or not isinstance(ledger.get("event"), Mapping):
        return False
    try:
        return event_hash_of(ledger["event"]) == ledger.get("hash")
    except Exception:  # rfc8785 rejects values JSON cannot carry: the link is broken
        return False
