"""SMS tables: the numbers brands send from, every text sent (with its delivery status), every
text received (with what it asked for), brands' SMS settings, and the dev phone's texts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.consent.models import EventId
from accord.core.db import Base, CreatedMixin, IdMixin, utcnow


class SendingNumber(IdMixin, CreatedMixin, Base):
    """A number a brand sends from (E.164). Replies to it are the brand's."""

    __tablename__ = "sms_numbers"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(16), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")


class BrandSmsSettings(Base):
    """What a brand answers to HELP."""

    __tablename__ = "sms_brand_settings"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True
    )
    help_text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SmsMessage(Base):
    """A text handed to the gateway, and what became of it: queued -> sent -> delivered,
    undelivered or failed, as the gateway's status callbacks report it."""

    __tablename__ = "sms_messages"
    __table_args__ = (
        UniqueConstraint("provider", "provider_id"),
        Index("ix_sms_messages_person_from", "person_id", "from_number", "created_at"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    # Null for Accord's own texts (verification codes).
    brand_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    outbox_id: Mapped[int | None] = mapped_column(
        EventId,
        ForeignKey("outbox.id", ondelete="SET NULL"),
        index=True,
    )
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # campaign, message (transactional), confirmation (of a STOP or START), help, code.
    kind: Mapped[str] = mapped_column(String(16))
    to_number: Mapped[str] = mapped_column(String(16))
    from_number: Mapped[str] = mapped_column(String(16))
    segments: Mapped[int] = mapped_column(default=1)
    encoding: Mapped[str] = mapped_column(String(8))
    provider: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboundSms(Base):
    """A text a person sent to a number Accord answers for, and what it asked: stop,
    stop_all, start, help or other (a reply the brand reads); `outcome` says what was done."""

    __tablename__ = "sms_inbound"
    __table_args__ = (
        UniqueConstraint("provider", "provider_id"),
        Index("ix_sms_inbound_brand_received", "brand_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(64))
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    brand_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class DevPhoneText(Base):
    """The dev phone (embedded default, `dev` only): every text to or from a person's number."""

    __tablename__ = "dev_phone_texts"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    # The person's number, and the number on the other side (a brand's, or Accord's own).
    number: Mapped[str] = mapped_column(String(32), index=True)
    peer: Mapped[str] = mapped_column(String(32))
    # "in": a text the phone received; "out": one typed on the phone.
    direction: Mapped[str] = mapped_column(String(3))
    body: Mapped[str] = mapped_column(Text)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
