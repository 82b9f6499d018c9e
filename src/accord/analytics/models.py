"""Analytics tables: customers and their transactions, model fits, consented scores, aggregates.

Individual scores exist only while the person grants `profiling` to the brand: a score row
references that grant with ON DELETE CASCADE, so withdrawing profiling deletes the scores in
the same transaction, enforced by the database itself.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, CreatedMixin, IdMixin, utcnow

Money = Numeric(14, 2)
# Customer and order ids are opaque: on PostgreSQL they compare byte by byte ("C"), which
# spares every index descent and sort of the import a locale-aware comparison per step.
OpaqueId = String(64).with_variant(String(64, collation="C"), "postgresql")


class Customer(IdMixin, CreatedMixin, Base):
    """A brand's customer: an external id, linked to a person when they are related."""

    __tablename__ = "analytics_customers"
    __table_args__ = (
        UniqueConstraint("brand_id", "external_id"),
        # The target of the transactions' (brand, customer) foreign key. An index, not a
        # constraint: SQLite adds one without rebuilding the table (a rebuild would delete,
        # by cascade, every transaction of the customers it copies).
        Index("uq_analytics_customers_brand_id_id", "brand_id", "id", unique=True),
    )

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(OpaqueId)
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )


class Transaction(Base):
    """One purchase or refund, identified by its brand and order id (imports are idempotent).

    Bulk imports write millions of rows, so the table carries only what each row must pay
    for: the (brand, order id) key, one foreign key to the customer that includes the brand
    (a customer of another brand cannot be referenced; the brand itself is reached through
    the customer, whose deletion cascades here) and the index that foreign key needs.
    """

    __tablename__ = "analytics_transactions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["brand_id", "customer_id"],
            ["analytics_customers.brand_id", "analytics_customers.id"],
            ondelete="CASCADE",
        ),
        Index("ix_analytics_transactions_customer", "brand_id", "customer_id"),
    )

    brand_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(OpaqueId, primary_key=True)
    customer_id: Mapped[uuid.UUID]
    occurred_at: Mapped[datetime]
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str | None] = mapped_column(String(16))
    product: Mapped[str | None] = mapped_column(String(120))
    cost: Mapped[Decimal | None] = mapped_column(Money)
    is_refund: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelFit(IdMixin, Base):
    """One fit of one model for one brand at one calibration cut-off."""

    __tablename__ = "analytics_fits"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    model: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    log_likelihood: Mapped[float | None]
    customers: Mapped[int]
    calibration_start: Mapped[datetime]
    cutoff: Mapped[datetime]
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerScore(Base):
    """Scores about one consenting person. Gone the moment the profiling grant is."""

    __tablename__ = "customer_scores"
    __table_args__ = (
        ForeignKeyConstraint(
            ["person_id", "brand_id", "purpose"],
            ["purpose_grants.person_id", "purpose_grants.brand_id", "purpose_grants.purpose"],
            ondelete="CASCADE",
        ),
        CheckConstraint("purpose = 'profiling'", name="profiling_only"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    brand_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    purpose: Mapped[str] = mapped_column(String(16), default="profiling")
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("analytics_customers.id", ondelete="CASCADE")
    )
    fit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("analytics_fits.id", ondelete="CASCADE"))
    frequency: Mapped[int]
    recency_weeks: Mapped[float]
    age_weeks: Mapped[float]
    average_spend: Mapped[float]
    p_alive: Mapped[float]
    expected_purchases: Mapped[float]
    expected_spend: Mapped[float]
    clv: Mapped[float]
    rfm: Mapped[str | None] = mapped_column(String(3))
    segment: Mapped[str | None] = mapped_column(String(32))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SegmentAggregate(IdMixin, CreatedMixin, Base):
    """Equity and counts per segment for a fit; segments under 5 customers are not stored."""

    __tablename__ = "analytics_segments"

    fit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("analytics_fits.id", ondelete="CASCADE"), index=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    segment: Mapped[str] = mapped_column(String(64))
    customers: Mapped[int]
    equity: Mapped[float]
    consented_customers: Mapped[int]
    consented_equity: Mapped[float]
    lost_equity: Mapped[float] = mapped_column(default=0.0)


class FitSnapshot(Base):
    """The figures a fit computed once for the console (see analytics.snapshot), as JSON."""

    __tablename__ = "analytics_fit_snapshots"

    fit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("analytics_fits.id", ondelete="CASCADE"), primary_key=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
