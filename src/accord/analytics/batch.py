"""API batches of transactions: each row validated on its own, the good ones stored at once."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from accord.analytics.schemas import BatchResult, RowError, TransactionIn
from accord.analytics.validation import Record
from accord.analytics.writer import write_records


def _field(error: Any) -> str | None:
    loc = [str(p) for p in error.get("loc", ())]
    return ".".join(loc) or None


def import_batch(session: Session, brand_id: uuid.UUID, rows: list[dict[str, Any]]) -> BatchResult:
    """Validate each row, store the valid ones in one set-based write (idempotent by order
    id) and report every rejected row with its index, field and reason."""
    records: list[Record] = []
    errors: list[RowError] = []
    for index, row in enumerate(rows):
        try:
            records.append(TransactionIn.model_validate(row).record(index))
        except ValidationError as exc:
            first = exc.errors()[0]
            message = str(first["msg"]).removeprefix("Value error, ")
            errors.append(RowError(index=index, field=_field(first), detail=message))
    result = write_records(session, brand_id, records)
    errors += [RowError(index=i, field="order_id", detail=reason) for i, reason in result.rejected]
    errors.sort(key=lambda e: e.index)
    return BatchResult(
        imported=result.imported,
        duplicates_skipped=result.duplicates,
        rejected=len(errors),
        errors=errors,
    )
