"""A person's account, profile and contact points."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, CreatedMixin, IdMixin


class Person(IdMixin, CreatedMixin, Base):
    __tablename__ = "people"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(35), default="en")
    last_sign_in_at: Mapped[datetime | None]
    # The country the person gives in their profile (ISO 3166-1 alpha-2), if any.
    country: Mapped[str | None] = mapped_column(String(2))
    # Where the law sees the person (`accord.people.contacts.refresh_place`): their verified
    # phone number's country and state or province, else their profile's country. Both forms
    # of the gate read it for the legal rules (`accord.compliance`).
    place_country: Mapped[str | None] = mapped_column(String(2))
    place_subdivision: Mapped[str | None] = mapped_column(String(3))


class ContactPoint(IdMixin, CreatedMixin, Base):
    """A person's address on one channel; used only once verified and while not suppressed."""

    __tablename__ = "contact_points"
    __table_args__ = (UniqueConstraint("channel", "address_normalised"),)

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    address_normalised: Mapped[str] = mapped_column(String(320))
    is_primary: Mapped[bool] = mapped_column(default=False)
    verified_at: Mapped[datetime | None]
    # Phone numbers keep their region; push endpoints their keys (p256dh, auth).
    region: Mapped[str | None] = mapped_column(String(2))
    # Phone numbers in the US and Canada: the state or province of the area code (ISO 3166-2).
    subdivision: Mapped[str | None] = mapped_column(String(3))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    suppressed_reason: Mapped[str | None] = mapped_column(String(32))
    suppressed_at: Mapped[datetime | None]
    # A code sent by SMS (phones): only its hash, with an expiry and an attempt counter.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None]
    code_attempts: Mapped[int] = mapped_column(default=0)


class ErasedAddress(IdMixin, CreatedMixin, Base):
    """What survives an erasure: a keyed hash of the address, so it is never re-imported.

    `brand_id` null means erased from Accord entirely; otherwise only from that brand.
    """

    __tablename__ = "erased_addresses"
    __table_args__ = (UniqueConstraint("address_hash", "brand_id"),)

    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    brand_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
