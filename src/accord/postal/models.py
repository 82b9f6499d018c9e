"""Postal exports: a mailing's eligible addresses, kept so that exporting again gives the same
file, with who was exported, when and why."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, IdMixin, utcnow


class PostalExport(IdMixin, Base):
    __tablename__ = "postal_exports"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    # One export per mailing: asking again returns this one.
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    exported: Mapped[int] = mapped_column(Integer, default=0)
    # The audience members left out, by gate reason (no postal address: `no_contact_point`).
    left_out: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sha256: Mapped[str] = mapped_column(String(64))


class PostalExportRow(Base):
    __tablename__ = "postal_export_rows"

    export_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("postal_exports.id", ondelete="CASCADE"), primary_key=True
    )
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key: the row stays what was exported, whatever happens to the person later.
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    fields: Mapped[list[str]] = mapped_column(JSON)
