"""How much a brand uses the gate as a service: one counter row per brand and day."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base


class GateCheckUsage(Base):
    __tablename__ = "gate_check_usage"

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, UTC
    calls: Mapped[int] = mapped_column(default=0)
    items: Mapped[int] = mapped_column(default=0)
