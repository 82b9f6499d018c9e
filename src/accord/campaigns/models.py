"""A campaign: brand, topic (hence purpose), content per channel, audience, schedule, expiry."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, CreatedMixin, IdMixin


class Campaign(IdMixin, CreatedMixin, Base):
    __tablename__ = "campaigns"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    topic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16), default="email")
    # Several channels, in the campaign's order (the first is `channel`): `preferred` sends each
    # person one message on the first the gate allows in their own order; `all` on every one.
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel_mode: Mapped[str] = mapped_column(String(16), default="preferred")
    subject: Mapped[str] = mapped_column(String(300))
    text_template: Mapped[str] = mapped_column(Text)
    html_template: Mapped[str | None] = mapped_column(Text)
    # A channel's own content, {channel: {"subject", "text", "html"}}: templates like the ones
    # above, used instead of them on that channel (a short SMS beside a long e-mail).
    contents: Mapped[dict[str, dict[str, str | None]]] = mapped_column(JSON, default=dict)
    # "all" related people, "people" (a list of ids) or "filter" (on facts people shared).
    audience_kind: Mapped[str] = mapped_column(String(16), default="all")
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # "now", "at" (send_at, UTC) or "local" (local_time on local_date in each person's zone).
    schedule_kind: Mapped[str] = mapped_column(String(8), default="now")
    send_at: Mapped[datetime | None]
    local_time: Mapped[str | None] = mapped_column(String(5))
    local_date: Mapped[str | None] = mapped_column(String(10))
    expires_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="draft")
    audience_counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class SavedSegment(IdMixin, CreatedMixin, Base):
    """An audience a brand saved under a name, to pick in the composer: a filter on shared
    facts or an RFM segment (never a list of people, so it holds no one's data)."""

    __tablename__ = "saved_segments"
    __table_args__ = (UniqueConstraint("brand_id", "name"),)

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    # The audience as `campaigns.schemas.Audience` stores it: {"kind": "filter", "filter": {...}}
    # or {"kind": "segment", "segment": "champions"}.
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
