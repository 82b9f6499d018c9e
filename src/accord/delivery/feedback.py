"""Bounces, complaints and mailto unsubscribes: parse what comes back, then act on it.

- DSN (RFC 3464, multipart/report; report-type=delivery-status): per recipient, `Action: failed`
  with a 5.x.x status is a hard bounce (the address is suppressed); 4.x.x is soft (recorded).
- ARF (RFC 5965, report-type=feedback-report) with `Feedback-Type: abuse`: a complaint (the
  address is suppressed and marketing from that brand withdrawn).
- A message to `unsubscribe@<domain>` whose Subject is `unsubscribe <token>`: the mailto form
  of List-Unsubscribe, the same as one-click.

The original message is found by its Message-ID, which Accord derives from the outbox key, so no
extra column is needed: the rows sent to the bounced address are few. When the report hides the
recipient (ARF often does), the signed token in the original's List-Unsubscribe header names it.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.consent.service import Scope
from accord.core.errors import InvalidInput
from accord.core.security import normalise_email
from accord.core.settings import Settings
from accord.delivery import email_channel, unsubscribe
from accord.outbox.models import DeliveryEvent, OutboxMessage
from accord.people import service as people
from accord.people.models import ContactPoint
from accord.relationships import service as relationships
from accord.relationships.vocabulary import Purpose, Source, State
from accord.webhooks import service as webhooks
from accord.webhooks.service import MESSAGE_BOUNCED, MESSAGE_COMPLAINED

log = logging.getLogger("accord.feedback")

Kind = Literal["bounce", "soft_bounce", "complaint", "unsubscribe"]
# Where a report carries the original message (or its headers): RFC 3464, 5965 and 6533.
ORIGINAL_TYPES = {
    "message/rfc822",
    "text/rfc822-headers",
    "message/global",
    "message/global-headers",
}
STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
TOKEN_IN_URL = re.compile(r"/u/([A-Za-z0-9_.\-]+)>")
SUBJECT_TOKEN = re.compile(r"^\s*unsubscribe\s+(\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Feedback:
    kind: Kind
    recipients: tuple[str, ...] = ()
    message_id: str | None = None
    status: str | None = None
    token: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Original:
    message_id: str | None = None
    to: str | None = None
    token: str | None = None


def _address(value: object) -> str | None:
    """`rfc822; a@b` (DSN address types) or a bare address, normalised."""
    text = str(value or "").strip()
    if ";" in text:
        text = text.split(";", 1)[1]
    text = text.strip().strip("<>").strip()
    return normalise_email(text) if "@" in text else None


def _blocks(part: Message) -> list[Message]:
    """The field blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    raw = part.get_payload(decode=True)
    text = raw if isinstance(raw, bytes) else str(payload).encode()
    chunks = re.split(rb"\r?\n\s*\r?\n", text.strip())
    return [BytesHeaderParser().parsebytes(chunk + b"\n") for chunk in chunks if chunk.strip()]


def _original(part: Message | None) -> Original:
    if part is None:
        return Original()
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        headers: Message = payload[0]
    else:
        raw = part.get_payload(decode=True)
        headers = BytesHeaderParser().parsebytes(raw if isinstance(raw, bytes) else b"")
    found = TOKEN_IN_URL.search(str(headers.get("List-Unsubscribe", "")))
    return Original(
        message_id=str(headers.get("Message-ID", "")).strip() or None,
        to=_address(headers.get("To")),
        token=found.group(1) if found else None,
    )


def _report(message: Message) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == "multipart/report":
            return part
    return None


def parse(raw: bytes, settings: Settings, recipients: Sequence[str] = ()) -> list[Feedback]:
    """What this inbound message reports; an empty list when it is none of the above."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    report = _report(message)
    if report is not None:
        payload = report.get_payload()
        parts = [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []
        original = _original(
            next((p for p in parts if p.get_content_type() in ORIGINAL_TYPES), None)
        )
        kind = str(report.get_param("report-type") or "").lower()
        for part in parts:
            if kind == "delivery-status" and part.get_content_type() == "message/delivery-status":
                return list(_dsn(_blocks(part), original))
            if kind == "feedback-report" and part.get_content_type() == "message/feedback-report":
                return _arf(_blocks(part), original)
        return []
    return _mailto(message, settings, recipients)


def _dsn(blocks: list[Message], original: Original) -> Iterable[Feedback]:
    for block in blocks[1:]:  # the first block is about the whole message
        found = [_address(block.get(name)) for name in ("Original-Recipient", "Final-Recipient")]
        addresses = tuple(dict.fromkeys(a for a in found if a))
        if not addresses:
            continue
        action = str(block.get("Action", "")).strip().lower()
        match = STATUS.search(str(block.get("Status", "")))
        status = match.group(0) if match else None
        hard = action == "failed" and status is not None and status.startswith("5.")
        yield Feedback(
            kind="bounce" if hard else "soft_bounce",
            recipients=addresses,
            message_id=original.message_id,
            status=status,
            token=original.token,
            detail=str(block.get("Diagnostic-Code", "")).strip()[:500] or None,
        )


def _arf(blocks: list[Message], original: Original) -> list[Feedback]:
    fields = blocks[0] if blocks else Message()
    if str(fields.get("Feedback-Type", "")).strip().lower() != "abuse":
        return []
    rcpt = _address(fields.get("Original-Rcpt-To")) or original.to
    return [
        Feedback(
            kind="complaint",
            recipients=(rcpt,) if rcpt else (),
            message_id=original.message_id,
            token=original.token,
            detail=str(fields.get("User-Agent", "")).strip()[:200] or None,
        )
    ]


def _mailto(message: Message, settings: Settings, recipients: Sequence[str]) -> list[Feedback]:
    address = f"unsubscribe@{email_channel.domain_of(settings)}"
    to = [_address(r) for r in recipients] or [_address(message.get("To"))]
    match = SUBJECT_TOKEN.match(str(message.get("Subject", "")))
    if address not in to or match is None:
        return []
    return [Feedback(kind="unsubscribe", token=match.group(1))]


def local_part(message_id: str | None) -> str | None:
    if not message_id:
        return None
    return message_id.strip().strip("<>").split("@", 1)[0].lower() or None


def find_message(session: Session, settings: Settings, item: Feedback) -> OutboxMessage | None:
    """The sent outbox row this report is about, or None when it is not ours."""
    wanted = local_part(item.message_id)
    if wanted and item.recipients:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.idempotency_key).where(
                func.lower(OutboxMessage.to_address).in_(item.recipients),
                OutboxMessage.sent_at.is_not(None),
            )
        )
        for row_id, key in rows:
            if local_part(email_channel.message_id_for(key, settings)) == wanted:
                return session.get(OutboxMessage, row_id)
    if item.token and not item.recipients:  # the report hides the recipient: ask the token
        return _by_token(session, settings, item.token, wanted)
    return None


def _by_token(
    session: Session, settings: Settings, raw: str, wanted: str | None
) -> OutboxMessage | None:
    try:
        token = unsubscribe.read(settings, raw)
    except InvalidInput:
        return None
    row = session.get(OutboxMessage, token.message)
    if row is None or row.person_id != token.person or row.sent_at is None:
        return None
    derived = local_part(email_channel.message_id_for(row.idempotency_key, settings))
    return row if wanted is None or derived == wanted else None


def _seen(session: Session, row: OutboxMessage, kind: str) -> bool:
    query = select(DeliveryEvent.id).where(
        DeliveryEvent.message_id == row.id, DeliveryEvent.kind == kind
    )
    return session.scalar(query.limit(1)) is not None


def _suppress(session: Session, settings: Settings, row: OutboxMessage, reason: str) -> None:
    point = session.scalars(
        select(ContactPoint).where(
            ContactPoint.person_id == row.person_id,
            ContactPoint.channel == row.channel,
            ContactPoint.address_normalised == normalise_email(row.to_address or ""),
        )
    ).one_or_none()
    if point is not None and point.suppressed_reason is None:
        people.suppress_contact_point(session, settings, point, reason)


def _event(session: Session, row: OutboxMessage, kind: str, detail: str | None) -> None:
    session.add(
        DeliveryEvent(
            brand_id=row.brand_id,
            campaign_id=row.campaign_id,
            message_id=row.id,
            person_id=row.person_id,
            kind=kind,
            detail=detail,
        )
    )
    session.flush()


def apply(session: Session, settings: Settings, item: Feedback) -> str:
    """Act on one report in the caller's transaction; returns what was done (for logs)."""
    if item.kind == "unsubscribe":
        try:
            token = unsubscribe.read(settings, item.token or "")
        except InvalidInput:
            return "invalid_token"
        return "unsubscribed" if unsubscribe.one_click(session, token, via="mailto") else "nothing"
    row = find_message(session, settings, item)
    if row is None:
        return "unmatched"
    if row.person_id is None:  # the person was erased since: nothing of theirs is left to act on
        return "erased"
    kind = {"bounce": "bounced", "soft_bounce": "soft_bounced", "complaint": "complained"}[
        item.kind
    ]
    unsubscribe.hold(session, row.person_id)  # a report delivered twice at once applies once
    if _seen(session, row, kind):
        return "duplicate"
    if item.kind == "bounce":
        _suppress(session, settings, row, "hard_bounce")
    elif item.kind == "complaint":
        _suppress(session, settings, row, "complaint")
        rel = relationships.find(session, row.person_id, row.brand_id)
        if rel is not None and rel.state != State.ended:
            relationships.withdraw(
                session,
                row.person_id,
                row.brand_id,
                Scope(purpose=Purpose.marketing.value),
                Source.system,
                evidence={"message": str(row.id), "via": "complaint"},
            )
    _event(session, row, kind, item.status or item.detail)
    told = {"bounced": MESSAGE_BOUNCED.name, "complained": MESSAGE_COMPLAINED.name}.get(kind)
    if told is not None:  # the brand's systems hear of it (webhook), once per message
        webhooks.emit(
            session,
            row.brand_id,
            told,
            {
                "outbox_id": row.id,
                "person_id": str(row.person_id),
                "campaign_id": str(row.campaign_id) if row.campaign_id else None,
                "channel": row.channel,
                "detail": (item.status or item.detail or "")[:200],
            },
            event_id=f"msg_{told}_{row.id}",
        )
    return kind


def process(
    session: Session, settings: Settings, raw: bytes, recipients: Sequence[str]
) -> list[str]:
    """Parse and apply one inbound message; what was done for each report in it."""
    try:
        items = parse(raw, settings, recipients)
    except Exception:  # hostile or broken mail must not make the sender retry for ever
        log.warning("inbound message could not be parsed; dropped", exc_info=True)
        return ["unparseable"]
    done = [apply(session, settings, item) for item in items]
    log.info("inbound feedback: %s", ", ".join(done) or "nothing to act on")
    return done
