"""Query and header parameters many routes share, checked like every other text input."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Query

from accord.core.validation import Line

# `cursor: CursorParam = None` on every list route.
CursorParam = Annotated[
    Line | None, Query(max_length=500, description="The next_cursor of the previous page.")
]
# `idempotency_key: IdempotencyKeyParam = None` where a route requires the header (the
# middleware in `accord.core.web.idempotency` handles it on every POST).
IdempotencyKeyParam = Annotated[
    Line | None, Header(max_length=255, description="Replays the stored answer when repeated.")
]

# The largest integers the databases store (BIGINT, INTEGER): a bigger one is a 422, not a 500.
BIGINT = 2**63 - 1
INTEGER = 2**31 - 1
# `event_id: RowId` for an integer id (a BIGINT column) in the path; `SmallId` for an INTEGER
# column (a sequence number).
RowId = Annotated[int, Path(ge=1, le=BIGINT)]
SmallId = Annotated[int, Path(ge=1, le=INTEGER)]
