"""Intents, the terms they require, brands' subscriptions and auto-offer rules, offers, blocks,
and which brands saw which intent."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, CreatedMixin, IdMixin, utcnow

Money = Numeric(12, 2)


class Intent(IdMixin, CreatedMixin, Base):
    """A person's broadcast. Brands see it only through `accord.intents.service`, which never
    shows `person_id`: a brand knows an intent by its id and its pseudonym (new per intent)."""

    __tablename__ = "intents"
    __table_args__ = (
        # The match: open intents of a category, not yet expired, newest first.
        Index("ix_intents_match", "category", "status", "expires_at"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    pseudonym: Mapped[str] = mapped_column(String(24), unique=True)
    category: Mapped[str] = mapped_column(String(48))
    description: Mapped[str] = mapped_column(Text)
    budget_min: Mapped[Decimal] = mapped_column(Money)
    budget_max: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    # The last day the person wants offers for; the intent expires at the end of it (UTC).
    timeframe_end: Mapped[datetime]
    expires_at: Mapped[datetime]
    country: Mapped[str] = mapped_column(String(2))
    subdivision: Mapped[str | None] = mapped_column(String(6))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    accepted_offer_id: Mapped[uuid.UUID | None]
    closed_at: Mapped[datetime | None]


class IntentTerm(Base):
    """A roster entry any offerer must accept (publish as accepted) to answer the intent."""

    __tablename__ = "intent_terms"
    __table_args__ = (
        ForeignKeyConstraint(["slug", "version"], ["terms_roster.slug", "terms_roster.version"]),
    )

    intent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("intents.id", ondelete="CASCADE"), primary_key=True
    )
    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int]


class Subscription(Base):
    """A brand sees the intents of the categories it subscribes to."""

    __tablename__ = "intent_subscriptions"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(48), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Offer(IdMixin, CreatedMixin, Base):
    """A brand's answer to an intent: one per brand and intent."""

    __tablename__ = "intent_offers"
    __table_args__ = (UniqueConstraint("intent_id", "brand_id"),)

    intent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("intents.id", ondelete="CASCADE"), index=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime]
    # The roster entries the brand accepts with this offer: [{"id": ..., "version": ...}].
    terms: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")
    rule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("intent_auto_rules.id", ondelete="SET NULL")
    )


class AutoRule(IdMixin, CreatedMixin, Base):
    """Offer automatically on new intents of a category whose budget meets the band (and, if
    set, in one country): an offer from the template, valid for `valid_days`."""

    __tablename__ = "intent_auto_rules"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(48))
    budget_min: Mapped[Decimal] = mapped_column(Money)
    budget_max: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    country: Mapped[str | None] = mapped_column(String(2))
    price: Mapped[Decimal] = mapped_column(Money)
    description: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    valid_days: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)


class Block(Base):
    """The person will take no offers from this brand: it no longer sees their intents."""

    __tablename__ = "intent_blocks"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class View(Base):
    """A brand saw an intent (in a list or on its own), first at `first_seen_at`."""

    __tablename__ = "intent_views"

    intent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("intents.id", ondelete="CASCADE"), primary_key=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
