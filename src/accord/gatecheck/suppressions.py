"""Every address a brand must not message, for a provider's suppression list: since a cursor,
oldest change first, as CSV or JSON.

Four sources, one statement (UNION ALL, ordered by the moment each entry arose):

- `ended`: the addresses of people whose relationship with the brand has ended;
- `withdrawn`: those of people related to the brand (not ended) who have not granted it
  marketing (withdrew it, or never gave it), since their latest decision for the brand;
- `hard_bounce`, `complaint` and other suppressions (`push_gone`, a carrier's STOP): the
  suppressed addresses of people related to the brand;
- `erased`: addresses erased from Accord or from this brand, as the keyed hash Accord keeps
  (HMAC-SHA256 of the lower-cased address under the key `hmac_key` gives, so the brand can
  hash its own list and match).

E-mail addresses and phone numbers only: push subscriptions and postal addresses are not on a
provider's suppression list."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, exists, func, literal, null, or_, select, union_all
from sqlalchemy.orm import Session

from accord.consent.models import LedgerEvent
from accord.core.errors import InvalidInput
from accord.core.settings import Settings
from accord.people.models import ContactPoint, ErasedAddress
from accord.relationships.models import PurposeGrant, Relationship
from accord.relationships.vocabulary import GrantStatus, Purpose, State

CHANNELS = ("email", "sms")
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class Entry:
    at: datetime
    key: str
    channel: str
    address: str | None
    address_hmac: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "address_hmac": self.address_hmac,
            "channel": self.channel,
            "reason": self.reason,
            "since": self.at.isoformat().replace("+00:00", "Z"),
        }


def hmac_key(settings: Settings) -> str:
    """The key of the `erased` hashes (hex): HMAC-SHA256(key, lower-cased address)."""
    secret = settings.resolved_secret_key().encode()
    return hmac.new(secret, b"erased", hashlib.sha256).hexdigest()


def encode_cursor(entry: Entry) -> str:
    raw = json.dumps([entry.at.isoformat(), entry.key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), str(key)
    except (ValueError, TypeError):
        raise InvalidInput("This cursor is not one Accord gave out.", field="cursor") from None


def _statement(brand_id: uuid.UUID) -> Any:
    cp, rel = ContactPoint, Relationship
    points = and_(cp.person_id == rel.person_id, cp.channel.in_(CHANNELS), rel.brand_id == brand_id)
    ended = (
        select(
            rel.ended_at.label("at"),
            (cast(cp.id, String) + ":ended").label("key"),
            cp.channel,
            cp.address.label("address"),
            null().label("address_hmac"),
            literal("ended").label("reason"),
        )
        .select_from(rel)
        .join(cp, points)
        .where(rel.state == State.ended.value, rel.ended_at.is_not(None))
    )
    granted = exists().where(
        PurposeGrant.person_id == rel.person_id,
        PurposeGrant.brand_id == brand_id,
        PurposeGrant.purpose == Purpose.marketing.value,
        PurposeGrant.status == GrantStatus.granted.value,
    )
    latest = (
        select(LedgerEvent.subject_id, func.max(LedgerEvent.occurred_at).label("at"))
        .where(LedgerEvent.brand_id == brand_id)
        .group_by(LedgerEvent.subject_id)
        .subquery("latest")
    )
    withdrawn = (
        select(
            func.coalesce(latest.c.at, rel.created_at).label("at"),
            (cast(cp.id, String) + ":withdrawn").label("key"),
            cp.channel,
            cp.address.label("address"),
            null().label("address_hmac"),
            literal("withdrawn").label("reason"),
        )
        .select_from(rel)
        .join(cp, points)
        .outerjoin(latest, latest.c.subject_id == rel.person_id)
        .where(rel.state.in_((State.active.value, State.paused.value)), ~granted)
    )
    suppressed = (
        select(
            cp.suppressed_at.label("at"),
            (cast(cp.id, String) + ":suppressed").label("key"),
            cp.channel,
            cp.address.label("address"),
            null().label("address_hmac"),
            cp.suppressed_reason.label("reason"),
        )
        .select_from(rel)
        .join(cp, points)
        .where(cp.suppressed_reason.is_not(None), cp.suppressed_at.is_not(None))
    )
    erased = select(
        ErasedAddress.created_at.label("at"),
        (cast(ErasedAddress.id, String) + ":erased").label("key"),
        literal("email").label("channel"),
        null().label("address"),
        ErasedAddress.address_hash.label("address_hmac"),
        literal("erased").label("reason"),
    ).where(or_(ErasedAddress.brand_id == brand_id, ErasedAddress.brand_id.is_(None)))
    return union_all(ended, withdrawn, suppressed, erased).subquery("suppressions")


def page(
    session: Session, brand_id: uuid.UUID, *, cursor: str | None = None, limit: int = 1000
) -> tuple[list[Entry], str | None]:
    """Entries after `cursor`, oldest first, and the cursor to continue from (None: the end
    for now; keep the last cursor to fetch only what is new next time)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    sub = _statement(brand_id)
    query = select(sub)
    if cursor:
        at, key = decode_cursor(cursor)
        query = query.where(or_(sub.c.at > at, and_(sub.c.at == at, sub.c.key > key)))
    rows = session.execute(query.order_by(sub.c.at, sub.c.key).limit(limit)).all()
    entries = [
        Entry(row.at, row.key, row.channel, row.address, row.address_hmac, row.reason)
        for row in rows
    ]
    return entries, (encode_cursor(entries[-1]) if entries else cursor)
