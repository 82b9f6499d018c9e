"""Magic links, sign-in sessions and sign-in throttles. Only hashes of secrets are stored."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, CreatedMixin, IdMixin


class MagicLink(IdMixin, CreatedMixin, Base):
    __tablename__ = "magic_links"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    # Null for an address with no account: the row still counts towards the rate limit,
    # so asking for a link behaves the same whether or not the account exists.
    subject_id: Mapped[uuid.UUID | None]
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    # Keyed hash of the asking client's IP, for the per-IP hourly limit (null: not known).
    ip_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AuthSession(IdMixin, CreatedMixin, Base):
    """One sign-in of a person or a member. The cookie carries the token; a request is signed
    in only while this row says so, so signing out (here, everywhere, or by changing the
    password) ends copies of the cookie too."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_subject", "subject_kind", "subject_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SignInThrottle(Base):
    """Failed password sign-ins of one account or one IP (a keyed hash of either): after a few,
    each further failure doubles the wait before the next try is even checked."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]
