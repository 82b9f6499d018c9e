"""Webhooks: a brand's endpoints, the events raised for it, and one delivery per (endpoint,
event), itself an outbox row with a lease, attempts and the last response."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.consent.models import EventId
from accord.core.db import Base, CreatedMixin, IdMixin, utcnow


class WebhookEndpoint(IdMixin, CreatedMixin, Base):
    __tablename__ = "webhook_endpoints"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The Standard Webhooks secret (whsec_…): kept to sign, shown to the brand's owners.
    secret: Mapped[str] = mapped_column(String(100))
    # The endpoint also delivers messages on the `webhook` channel (the brand's own systems).
    is_channel: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    # Since when every attempt has failed (NULL after a success): disabled after N days.
    failing_since: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]


class WebhookEvent(Base):
    """One event, as every endpoint receives it: `id` is the Standard Webhooks `webhook-id`."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_brand_created", "brand_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    # pending → succeeded, or failed after the last retry; `cancelled` when the endpoint goes.
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_response: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(String(500))
    succeeded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
