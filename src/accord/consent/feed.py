"""A brand's consent change feed: its ledger events in an order no late commit can skip.

PostgreSQL hands out ids at insert time, but other readers see a row only once its
transaction commits, so "id > last seen" would skip an event whose transaction commits after
a later id was read. Events carry their transaction id (txid), and the feed returns only
events of transactions older than the oldest one still running in this database, in
(txid, id) order: everything older is final, and anything that appears later has a larger
txid than any event already returned. A long transaction in this database delays the feed, never
loses an event. SQLite has one writer at a time, so there txid is 0 and ids are commit order.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import Session

from accord.consent.models import LedgerEvent
from accord.core.errors import InvalidInput

_CURSOR = re.compile(r"(?:(\d{1,19})\.)?(\d{1,19})")

# Events of transactions that have finished, plus (for a caller that wrote some) its own. The
# horizon is the oldest transaction our snapshot still sees running, ignoring those that
# pg_stat_activity shows running in another database (they cannot write this table), so an
# import elsewhere on the server does not hold the feed back. A transaction that cannot be
# placed (finished since, or hidden) still counts: the feed may wait, it never skips.
_FINAL_POSTGRES = text(
    "(ledger_events.txid < (SELECT min(h.x) FROM ("
    " SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS x"
    " UNION ALL SELECT running::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) running"
    " WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a"
    "  WHERE a.datname <> current_database() AND a.backend_xid IS NOT NULL"
    "  AND a.backend_xid::text::bigint = running::text::bigint % 4294967296)) h)"
    " OR ledger_events.txid = pg_current_xact_id_if_assigned()::text::bigint)"
)


def _position(cursor: str | None) -> tuple[int, int]:
    """(txid, id) after which to continue; cursors from before txid existed are plain ids."""
    if not cursor:
        return 0, 0
    match = _CURSOR.fullmatch(cursor)
    if match is None:
        raise InvalidInput("This cursor is not one Accord gave out.", field="cursor")
    return int(match.group(1) or 0), int(match.group(2))


def page(
    session: Session, brand_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[Sequence[LedgerEvent], str | None]:
    """The brand's next `limit` events after `cursor`, oldest first, and the cursor to keep."""
    txid, after = _position(cursor)
    query = select(LedgerEvent).where(
        LedgerEvent.brand_id == brand_id,
        or_(LedgerEvent.txid > txid, and_(LedgerEvent.txid == txid, LedgerEvent.id > after)),
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.where(_FINAL_POSTGRES)
    rows = session.scalars(query.order_by(LedgerEvent.txid, LedgerEvent.id).limit(limit)).all()
    if not rows:
        return rows, cursor or None
    return rows, f"{rows[-1].txid}.{rows[-1].id}"
