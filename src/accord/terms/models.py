"""The roster, what brands accept, what people proffer and the agreements between them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, CreatedMixin, IdMixin, utcnow

ROSTER_KEY = ("terms_roster.slug", "terms_roster.version")
LIVE_ROW = text("withdrawn_at IS NULL")


class RosterEntry(Base):
    """One version of one personal agreement. Versions are immutable (the database refuses
    UPDATE and DELETE on this table): a new version is a new row, added by a migration."""

    __tablename__ = "terms_roster"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    # The plain-language text, one page at most.
    text: Mapped[str] = mapped_column(Text)
    # The machine-readable form (JSON), signed into every agreement that follows this entry.
    machine: Mapped[dict[str, Any]] = mapped_column(JSON)
    follows: Mapped[str | None] = mapped_column(String(200))
    follows_url: Mapped[str | None] = mapped_column(String(300))
    published_at: Mapped[datetime]


class RosterEffect(Base):
    """An effect of a roster entry, one row each, so that SQL can ask "which effects hold"."""

    __tablename__ = "terms_roster_effects"
    __table_args__ = (ForeignKeyConstraint(["slug", "version"], list(ROSTER_KEY)),)

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    effect: Mapped[str] = mapped_column(String(32), primary_key=True)


class BrandAcceptance(Base):
    """A roster entry the brand publishes as accepted: proffers of it are accepted at once."""

    __tablename__ = "terms_brand_accepts"
    __table_args__ = (ForeignKeyConstraint(["slug", "version"], list(ROSTER_KEY)),)

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True
    )
    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Proffer(IdMixin, CreatedMixin, Base):
    """A person proffers one roster entry to one brand, or to every brand (`brand_id` null:
    each brand they have a relationship with, now or later)."""

    __tablename__ = "terms_proffers"
    __table_args__ = (
        ForeignKeyConstraint(["slug", "version"], list(ROSTER_KEY)),
        Index(
            "uq_terms_proffers_global",
            "person_id",
            "slug",
            unique=True,
            sqlite_where=text("brand_id IS NULL AND withdrawn_at IS NULL"),
            postgresql_where=text("brand_id IS NULL AND withdrawn_at IS NULL"),
        ),
        Index(
            "uq_terms_proffers_brand",
            "person_id",
            "brand_id",
            "slug",
            unique=True,
            sqlite_where=text("brand_id IS NOT NULL AND withdrawn_at IS NULL"),
            postgresql_where=text("brand_id IS NOT NULL AND withdrawn_at IS NULL"),
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    brand_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    withdrawn_at: Mapped[datetime | None]


class Agreement(IdMixin, CreatedMixin, Base):
    """One roster entry between one person and one brand: proffered, then answered.

    `subject_id` is the person's opaque id without a foreign key, as in the ledger: the brand's
    copy of a signed agreement outlives the person's erasure. At most one live row (not
    withdrawn) per person, brand and roster id."""

    __tablename__ = "terms_agreements"
    __table_args__ = (
        ForeignKeyConstraint(["slug", "version"], list(ROSTER_KEY)),
        ForeignKeyConstraint(["alt_slug", "alt_version"], list(ROSTER_KEY)),
        ForeignKeyConstraint(["agreed_slug", "agreed_version"], list(ROSTER_KEY)),
        Index(
            "uq_terms_agreements_live",
            "subject_id",
            "brand_id",
            "slug",
            unique=True,
            sqlite_where=LIVE_ROW,
            postgresql_where=LIVE_ROW,
        ),
        Index("ix_terms_agreements_brand_status", "brand_id", "status"),
    )

    subject_id: Mapped[uuid.UUID] = mapped_column(index=True)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    proffer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("terms_proffers.id", ondelete="SET NULL"), index=True
    )
    slug: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    # The brand's alternative (status "alternative"), and what is agreed once accepted: the
    # proffered entry, or the alternative when the person took it.
    alt_slug: Mapped[str | None] = mapped_column(String(64))
    alt_version: Mapped[int | None]
    agreed_slug: Mapped[str | None] = mapped_column(String(64))
    agreed_version: Mapped[int | None]
    # How the brand answered: "published" (its list holds the entry), "console" or "api".
    answered_by: Mapped[str | None] = mapped_column(String(16))
    proffered_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    # The signed record both parties keep (JSON with both signatures), once accepted.
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PersonTerms(Base):
    """A person's stance across brands: "only relationships on my terms"."""

    __tablename__ = "terms_people"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    only_my_terms: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
