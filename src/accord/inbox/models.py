"""The in-app inbox: one item per message delivered on the `inapp` channel."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, CreatedMixin, IdMixin


class InboxItem(IdMixin, CreatedMixin, Base):
    __tablename__ = "inbox_items"
    __table_args__ = (
        Index("ix_inbox_items_person_created", "person_id", "created_at"),
        Index("ix_inbox_items_brand_campaign", "brand_id", "campaign_id"),
    )

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # The outbox row it came from: unique, so a retried hand-over never makes a second item.
    message_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    topic_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    read_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
