"""The ledger: one append-only, hash-chained event per decision, chained per person."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, FetchedValue, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class LedgerEvent(Base):
    """An event as stored. `body` is the canonical JSON that `hash` covers; the other columns
    are indexes re-derived from it, and `accord ledger verify` checks that they agree."""

    __tablename__ = "ledger_events"
    __table_args__ = (
        UniqueConstraint("subject_id", "seq"),
        Index("ix_ledger_events_feed", "brand_id", "txid", "id"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    # The person's opaque id. No foreign key: the ledger outlives an erased profile.
    subject_id: Mapped[uuid.UUID] = mapped_column(index=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    brand_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    body: Mapped[str] = mapped_column(Text)
    # The writing transaction (PostgreSQL's pg_current_xact_id(); 0 on SQLite), set by the
    # database: the change feed pages on (txid, id) so a late commit is never skipped.
    txid: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())


class LedgerHead(Base):
    """The last link of each person's chain; updating it first serialises concurrent writers."""

    __tablename__ = "ledger_heads"

    subject_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))
