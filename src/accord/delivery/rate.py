"""The per-brand send rate, shared by every worker through one counter row per second."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from accord.core.db import insert_or_ignore, rowcount
from accord.outbox.models import BrandSendWindow


def _bump(session: Session, brand_id: uuid.UUID, window: int, n: int, limit: int) -> bool:
    won = rowcount(
        session.execute(
            update(BrandSendWindow)
            .where(
                BrandSendWindow.brand_id == brand_id,
                BrandSendWindow.window == window,
                BrandSendWindow.count + n <= limit,
            )
            .values(count=BrandSendWindow.count + n)
        )
    )
    return bool(won)


def take(session: Session, brand_id: uuid.UUID, limit: int, now: datetime, n: int = 1) -> bool:
    """`n` send slots in the current second, all or none. The conditional UPDATE is atomic,
    so workers racing for the last slots cannot both win (no overshoot)."""
    window = int(now.timestamp())
    if _bump(session, brand_id, window, n, limit):
        return True
    insert_or_ignore(session, BrandSendWindow, {"brand_id": brand_id, "window": window, "count": 0})
    return _bump(session, brand_id, window, n, limit)


def give_back(session: Session, brand_id: uuid.UUID, now: datetime, n: int) -> None:
    """Return `n` slots taken at `now` but not used (a chunk that stopped early)."""
    window = BrandSendWindow.window == int(now.timestamp())
    session.execute(
        update(BrandSendWindow)
        .where(BrandSendWindow.brand_id == brand_id, window, BrandSendWindow.count >= n)
        .values(count=BrandSendWindow.count - n)
    )


def forget_old(session: Session, now: datetime, keep_seconds: int = 120) -> None:
    cutoff = int(now.timestamp()) - keep_seconds
    session.execute(delete(BrandSendWindow).where(BrandSendWindow.window < cutoff))
