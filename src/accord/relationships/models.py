"""Relationship state and preferences. Every change is also a ledger event (same transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, CreatedMixin, IdMixin, utcnow

DEFAULT_BRAND_CAP = 3
DEFAULT_GLOBAL_CAP = 10


class Relationship(IdMixin, CreatedMixin, Base):
    __tablename__ = "relationships"
    __table_args__ = (
        UniqueConstraint("person_id", "brand_id"),
        Index("ix_relationships_brand_state", "brand_id", "state"),
        Index("ix_relationships_brand_person", "brand_id", "person_id"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    # With state "paused": until this time, or indefinitely when null.
    paused_until: Mapped[datetime | None]
    origin: Mapped[str] = mapped_column(String(16))
    brand_cap: Mapped[int] = mapped_column(default=DEFAULT_BRAND_CAP)
    # Self-profiling: what the person chose to share with this brand (nothing by default).
    shared: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    ended_at: Mapped[datetime | None]


class Topic(IdMixin, CreatedMixin, Base):
    """A brand-defined subject of messages. Its purpose is fixed and shown to people."""

    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("brand_id", "slug"),)

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(16))
    retired_at: Mapped[datetime | None]


class PurposeGrant(Base):
    """marketing / profiling / sharing granted to a brand ("pending" until double opt-in)."""

    __tablename__ = "purpose_grants"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChannelChoice(Base):
    """A channel the person chose for a purpose with a brand."""

    __tablename__ = "channel_choices"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)


class ChannelPreference(Base):
    """The order in which the person prefers a brand's channels (rank 1 first): a campaign on
    several channels reaches them on the first of its channels that the gate allows."""

    __tablename__ = "channel_preferences"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    rank: Mapped[int]


class TopicChoice(Base):
    """A topic the person chose (a topic is off until chosen)."""

    __tablename__ = "topic_choices"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )


class GlobalPreferences(Base):
    """Across all brands: quiet hours (person's time zone), global cap, do-not-contact, pause."""

    __tablename__ = "global_preferences"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    global_cap: Mapped[int] = mapped_column(default=DEFAULT_GLOBAL_CAP)
    do_not_contact: Mapped[bool] = mapped_column(default=False)
    paused_until: Mapped[datetime | None]


class PendingConsent(IdMixin, CreatedMixin, Base):
    """Consent a brand recorded that waits for the person's confirmation (double opt-in)."""

    __tablename__ = "pending_consents"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # What confirming grants: {"purpose": ..., "channels": [...], "topics": [...]}.
    grant: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]


class Invitation(IdMixin, CreatedMixin, Base):
    __tablename__ = "invitations"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
