"""The transactional outbox: one row per (campaign or message, person, channel)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from accord.consent.models import EventId
from accord.core.db import Base, utcnow


class MessageState(StrEnum):
    """Where an outbox row is: waiting (queued, deferred), claimed (sending), or settled."""

    queued = "queued"
    deferred = "deferred"
    paused = "paused"  # its campaign is paused: no worker claims it until it is resumed
    sending = "sending"
    sent = "sent"
    skipped = "skipped"
    failed = "failed"
    cancelled = "cancelled"


# `Table.info` of the tables erasure keeps with the person detached (`service.detach_person`)
# instead of deleting their rows: what was sent stays counted.
DETACH = {"erasure": "detach"}


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "not_before"),
        # Claims: the brands with queued rows (a skip scan), and each one's due rows in order.
        Index("ix_outbox_brand_due", "state", "brand_id", "not_before"),
        # The caps: each person's marketing in the window, by brand too, from the index alone.
        Index("ix_outbox_caps", "person_id", "purpose", "sent_at", "brand_id"),
        Index("ix_outbox_campaign_state", "campaign_id", "state"),
        Index(
            "ix_outbox_provider_ref",
            "channel",
            "provider_ref",
            sqlite_where=text("provider_ref IS NOT NULL"),
            postgresql_where=text("provider_ref IS NOT NULL"),
        ),
        {"info": DETACH},
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    # None once the person was erased: the row stays, detached, so the counts stay true.
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    topic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    # (campaign or message key, person, channel): a retry can never make a second message.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    reason: Mapped[str | None] = mapped_column(String(32))
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    # Transactional messages carry their own content; campaign messages render at send time.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    to_address: Mapped[str | None] = mapped_column(String(320))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The channel's own code for the last failure (SMTP reply, HTTP status, provider code).
    error_code: Mapped[str | None] = mapped_column(String(64))
    # The provider's id for the message, named by its delivery receipts.
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryEvent(Base):
    """What happened after sending: bounce, complaint, unsubscribe (attributed), reply."""

    __tablename__ = "delivery_events"
    __table_args__ = (
        # A person's events, newest first: the relationship page's tracking section reads
        # them on every view (without it, every brand's events were scanned).
        Index("ix_delivery_events_person", "person_id", "created_at"),
        {"info": DETACH},
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BrandSendWindow(Base):
    """Messages handed to channels per brand per second: the shared rate limit's counter."""

    __tablename__ = "brand_send_windows"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True
    )
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class DeliveryCounter(Base):
    """Counts the workers keep in the database for /metrics (e.g. lease take-overs), so that
    every worker process adds to the same number."""

    __tablename__ = "delivery_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class OutboxHandover(Base):
    """A message a channel took, on record from that moment until its chunk's outcomes commit
    (`accord.delivery.journal`, PostgreSQL). No foreign key: written beside the chunk's row
    locks on its own connection, it never waits for them."""

    __tablename__ = "outbox_handovers"

    outbox_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(40))  # the row's key digest (its Message-ID)
    status: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime]
    provider_ref: Mapped[str | None] = mapped_column(String(200))
