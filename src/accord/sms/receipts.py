"""Delivery receipts: a gateway's status callbacks move each text through queued -> sent ->
delivered / undelivered / failed, never backwards (callbacks can arrive out of order). A text
undelivered or failed for a reason that lies with the number (it does not exist, is a landline,
is not a mobile) suppresses the number, with a ledger event."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core.db import utcnow
from accord.core.errors import NotFound
from accord.core.settings import Settings
from accord.people import service as people
from accord.people.models import ContactPoint
from accord.sms.models import SmsMessage

# Provider statuses, as ours.
STATUSES = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}
RANK = {"queued": 0, "sent": 1, "delivered": 2, "undelivered": 2, "failed": 2}
# Errors that say the number itself cannot take texts (Twilio's codes; a generic gateway may
# also say `permanent`): 21211 invalid number, 21614 not a mobile, 21635 landline,
# 30005 unknown or inactive, 30006 landline or unreachable carrier. 30003 (unreachable
# handset) and 30007 (filtered) are not the number's fault and suppress nothing.
PERMANENT_CODES = frozenset({"21211", "21614", "21635", "30005", "30006"})
SUPPRESS_REASON = "undeliverable"


@dataclass(frozen=True)
class Status:
    provider: str
    provider_id: str
    status: str
    code: str | None = None
    permanent: bool | None = None


def known_status(value: str) -> bool:
    return value.lower() in STATUSES


def apply(session: Session, settings: Settings, report: Status) -> str:
    """Record the status; the text's new status, or why nothing changed."""
    row = session.scalars(
        select(SmsMessage).where(
            SmsMessage.provider == report.provider, SmsMessage.provider_id == report.provider_id
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"No text with id {report.provider_id!r}.", field="id")
    new = STATUSES[report.status.lower()]
    if RANK[new] <= RANK[row.status]:  # a late or repeated callback, or already settled
        return row.status
    row.status, row.status_at = new, utcnow()
    if report.code:
        row.error_code = report.code[:32]
    if new in ("undelivered", "failed") and permanent(report):
        suppress_number(session, settings, row.to_number)
    session.flush()
    return new


def permanent(report: Status) -> bool:
    """The report says the number itself cannot take texts."""
    if report.permanent is not None:
        return report.permanent
    return report.code is not None and report.code in PERMANENT_CODES


def suppress_number(session: Session, settings: Settings, number: str) -> bool:
    point = session.scalars(
        select(ContactPoint).where(
            ContactPoint.channel == "sms", ContactPoint.address_normalised == number
        )
    ).one_or_none()
    if point is None:
        return False
    return people.suppress_contact_point(session, settings, point, SUPPRESS_REASON)
