"""A person's account, profile and contact points."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, CreatedMixin, IdMixin


class Person(IdMixin, CreatedMixin, Base):
    __tablename__ = "people"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(35), default="en")
    last_sign_in_at: Mapped[datetime | None]


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
    suppressed_reason: Mapped[str | None] = mapped_column(String(32))
    suppressed_at: Mapped[datetime | None]
