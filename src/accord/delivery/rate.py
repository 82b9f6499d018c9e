"""The per-brand send rate, shared by every worker through one counter row per second."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from accord.core.db import insert_or_ignore
from accord.delivery.models import BrandSendWindow


def take(session: Session, brand_id: uuid.UUID, limit: int, now: datetime) -> bool:
    """One send slot in the current second, or False. The conditional UPDATE is atomic, so
    workers racing for the last slot cannot both win (no overshoot)."""
    window = int(now.timestamp())
    insert_or_ignore(session, BrandSendWindow, {"brand_id": brand_id, "window": window, "count": 0})
    won = session.execute(
        update(BrandSendWindow)
        .where(
            BrandSendWindow.brand_id == brand_id,
            BrandSendWindow.window == window,
            BrandSendWindow.count < limit,
        )
        .values(count=BrandSendWindow.count + 1)
    ).rowcount
    return bool(won)


def forget_old(session: Session, now: datetime, keep_seconds: int = 120) -> None:
    session.execute(
        delete(BrandSendWindow).where(BrandSendWindow.window < int(now.timestamp()) - keep_seconds)
    )
