"""A brand (tenant), its members and its API keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, CreatedMixin, IdMixin


class Brand(IdMixin, CreatedMixin, Base):
    __tablename__ = "brands"

    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(120), default="")
    sender_name: Mapped[str] = mapped_column(String(120))
    sender_email: Mapped[str] = mapped_column(String(320))
    # Required before any marketing e-mail may go out (CAN-SPAM style footer).
    postal_address: Mapped[str | None] = mapped_column(Text)
    support_email: Mapped[str] = mapped_column(String(320))
    # Messages per second across all workers (a shared window in the database, no overshoot).
    send_rate_per_second: Mapped[int] = mapped_column(default=100)


class Member(IdMixin, CreatedMixin, Base):
    """A brand's staff user. One account per e-mail address across Accord."""

    __tablename__ = "members"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    last_sign_in_at: Mapped[datetime | None]


class ApiKey(IdMixin, CreatedMixin, Base):
    """A brand system's credential. The secret is shown once; only its hash is kept."""

    __tablename__ = "api_keys"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class BrandKey(IdMixin, CreatedMixin, Base):
    """A brand's Ed25519 signing key (it signs the agreements the brand accepts).

    The private half is kept only wrapped (AES-GCM under a key derived from the instance
    secret), so a copy of the database alone cannot sign in the brand's name. Retired keys stay
    published: records signed with them must still verify."""

    __tablename__ = "brand_keys"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    kid: Mapped[str] = mapped_column(String(16), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))
    wrapped_private_key: Mapped[str] = mapped_column(Text)
    retired_at: Mapped[datetime | None]
