"""Cursor pagination, newest first, on (created_at, id): stable under inserts."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from accord.core.errors import InvalidInput

T = TypeVar("T")
R = TypeVar("R")
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next page; null on the last page."
    )


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        when, row_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(when), uuid.UUID(row_id)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise InvalidInput("This cursor is not one Accord gave out.", field="cursor") from None


def paginate(
    session: Session,
    query: Select[Any],
    *,
    created_at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Any], str | None]:
    """One page of `query` (which selects one entity) and the cursor of the next."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    if cursor:
        when, last_id = decode_cursor(cursor)
        query = query.where(or_(created_at < when, and_(created_at == when, row_id < last_id)))
    rows = session.scalars(query.order_by(created_at.desc(), row_id.desc()).limit(limit + 1)).all()
    return cut_page(
        rows, limit, lambda last: (getattr(last, created_at.key), getattr(last, row_id.key))
    )


def cut_page(
    rows: Sequence[R], limit: int, position: Callable[[R], tuple[datetime, uuid.UUID]]
) -> tuple[Sequence[R], str | None]:
    """A page read with one row more than `limit` (newest first), cut to `limit`, and the
    cursor of the next page (None when that extra row was not there). `position`: a row's
    (created_at, id)."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(*position(rows[-1]))
