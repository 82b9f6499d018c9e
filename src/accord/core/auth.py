"""Magic links: single-use, short-lived, hashed, rate-limited per address; people and members."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accord.core.auth_models import MagicLink
from accord.core.db import utcnow
from accord.core.errors import NotAuthenticated, RateLimited
from accord.core.security import keyed_hash, new_token, normalise_email, token_hash
from accord.core.settings import Settings

INVALID_LINK = "This sign-in link is invalid, expired or already used. Ask for a new one."


def issue_magic_link(
    session: Session,
    settings: Settings,
    *,
    subject_kind: str,
    subject_id: uuid.UUID | None,
    address: str,
) -> str:
    """Record a link and return its token (only the hash is stored).

    Rate-limited per address, counting requests for addresses without an account too, so the
    answer never tells whether an account exists.
    """
    address_hash = keyed_hash(
        settings.resolved_secret_key(), normalise_email(address), purpose="magic-link-address"
    )
    now = utcnow()
    recent = session.scalar(
        select(func.count())
        .select_from(MagicLink)
        .where(MagicLink.address_hash == address_hash)
        .where(MagicLink.created_at > now - timedelta(hours=1))
    )
    if (recent or 0) >= settings.magic_link_per_address_per_hour:
        raise RateLimited(
            "Too many sign-in links were asked for this address. Try again in an hour.",
            field="email",
        )
    token = new_token()
    session.add(
        MagicLink(
            token_hash=token_hash(token),
            subject_kind=subject_kind,
            subject_id=subject_id,
            address_hash=address_hash,
            expires_at=now + timedelta(minutes=settings.magic_link_minutes),
        )
    )
    session.flush()
    return token


def consume_magic_link(session: Session, token: str, *, subject_kind: str) -> uuid.UUID:
    """Use a link once. A single UPDATE makes two simultaneous uses impossible."""
    now = utcnow()
    row = session.execute(
        update(MagicLink)
        .where(
            MagicLink.token_hash == token_hash(token),
            MagicLink.subject_kind == subject_kind,
            MagicLink.used_at.is_(None),
            MagicLink.expires_at > now,
            MagicLink.subject_id.is_not(None),
        )
        .values(used_at=now)
        .returning(MagicLink.subject_id)
    ).first()
    if row is None or row[0] is None:
        raise NotAuthenticated(INVALID_LINK, field="token")
    return row[0]
