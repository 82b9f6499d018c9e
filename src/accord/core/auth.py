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
    ip: str | None = None,
) -> str:
    """Record a link and return its token (only the hash is stored).

    Rate-limited per address, per client IP (`ip`, when the caller is a web request) and for
    the whole instance, each over the last hour; requests for addresses without an account
    count too, so the answer never tells whether an account exists.
    """
    key = settings.resolved_secret_key()
    address_hash = keyed_hash(key, normalise_email(address), purpose="magic-link-address")
    ip_hash = keyed_hash(key, ip, purpose="magic-link-ip") if ip else None
    now = utcnow()
    last_hour = (
        select(func.count())
        .select_from(MagicLink)
        .where(MagicLink.created_at > now - timedelta(hours=1))
    )
    if (
        session.scalar(last_hour.where(MagicLink.address_hash == address_hash)) or 0
    ) >= settings.magic_link_per_address_per_hour:
        raise RateLimited(
            "Too many sign-in links were asked for this address. Try again in an hour.",
            field="email",
            retry_after=3600,
        )
    if ip_hash is not None and (
        (session.scalar(last_hour.where(MagicLink.ip_hash == ip_hash)) or 0)
        >= settings.magic_link_per_ip_per_hour
    ):
        raise RateLimited(
            "Too many sign-in links were asked from your network. Try again in an hour.",
            retry_after=3600,
        )
    if (session.scalar(last_hour) or 0) >= settings.magic_link_global_per_hour:
        raise RateLimited(
            "Accord is sending too many sign-in links right now. Try again later.",
            retry_after=600,
        )
    token = new_token()
    session.add(
        MagicLink(
            token_hash=token_hash(token),
            subject_kind=subject_kind,
            subject_id=subject_id,
            address_hash=address_hash,
            ip_hash=ip_hash,
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
