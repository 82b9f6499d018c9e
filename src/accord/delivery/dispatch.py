"""One chunk of claimed outbox rows: re-check the gate for all of them, send, record the result.

The check and the hand-over happen in one transaction that first locks the people's ledger
heads (FOR SHARE on PostgreSQL, in subject order; the write lock on SQLite). Every withdrawal,
pause and erasure updates that head row first, so it either commits before our check sees the
facts, or waits until our message is handed over: an opt-out takes effect at its commit.

The chunk costs a fixed number of set-based statements whatever its size: the head lock, one
statement that locks our rows (PostgreSQL) or renews their leases (SQLite) and returns them,
the content sources, the gate's facts, the addresses, and one UPDATE that records every row's
outcome.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from accord.campaigns.service import Decision, Reason, Sending
from accord.campaigns.service import check_gate as check
from accord.consent.models import LedgerHead
from accord.core.db import among
from accord.core.settings import Settings
from accord.delivery import compose
from accord.delivery.channels import Channels
from accord.delivery.handover import HandOver, Recorder, Suppression
from accord.delivery.journal import Journal
from accord.delivery.outcomes import MAX_ATTEMPTS, OutboxRow, Outcome, failed, result
from accord.delivery.outcomes import record as record_outcomes
from accord.delivery.slots import RateWriter, Slots, in_session
from accord.outbox.models import OutboxMessage
from accord.people import service as people_service
from accord.people.models import ContactPoint
from accord.relationships.vocabulary import Channel, Purpose
from accord.webhooks import service as webhooks
from accord.webhooks.service import MESSAGE_DELIVERED, MESSAGE_SENT

_outbox = cast(Table, OutboxMessage.__table__)


def lock_heads(session: Session, people: list[uuid.UUID]) -> None:
    query = select(LedgerHead.subject_id).where(
        among(session, LedgerHead.subject_id, "people", people)
    )
    query = query.order_by(LedgerHead.subject_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    session.execute(query).all()


_ROW = (
    _outbox.c.id,
    _outbox.c.brand_id,
    _outbox.c.campaign_id,
    _outbox.c.person_id,
    _outbox.c.topic_id,
    _outbox.c.channel,
    _outbox.c.purpose,
    _outbox.c.idempotency_key,
    _outbox.c.reason,
    _outbox.c.not_before,
    _outbox.c.expires_at,
    _outbox.c.attempts,
    _outbox.c.payload,
)


def renew_leases(session: Session, ids: list[int], owner: str, until: datetime) -> list[OutboxRow]:
    """The rows this worker still holds, kept from every other worker until the chunk ends.

    PostgreSQL: locked FOR UPDATE, in id order. A claim skips locked rows, so none of them can
    be taken over while we hand them over, however long that takes and whether or not their
    lease has run out meanwhile; and at the chunk's commit each has left `sending`. A lock
    instead of an UPDATE of the lease: no new row version, no new entry in each of the
    outbox's indexes, for every message. SQLite: the leases are renewed, the first write of the
    chunk's transaction, which takes the write lock (before the gate's facts are read)."""
    mine = (among(session, _outbox.c.id, "ids", ids), _outbox.c.lease_owner == owner)
    if session.get_bind().dialect.name == "postgresql":
        query = select(*_ROW).where(*mine).order_by(_outbox.c.id).with_for_update()
        return list(session.execute(query).all())
    rows = session.execute(
        update(_outbox).where(*mine).values(lease_expires_at=until).returning(*_ROW)
    ).all()
    return sorted(rows, key=lambda r: r.id)


def _checked(
    session: Session,
    rows: list[OutboxRow],
    sources: compose.Sources,
    now: datetime,
    outcome: Outcome,
    results: list[dict[str, Any]],
) -> set[int]:
    """The gate re-checked for every row (one query per brand, topic and channel): the ids of
    the rows that may go; the others' outcomes added to `results`."""
    groups: dict[tuple[uuid.UUID, uuid.UUID, str, str], list[OutboxRow]] = {}
    for row in rows:
        groups.setdefault((row.brand_id, row.topic_id, row.purpose, row.channel), []).append(row)
    sendable: set[int] = set()
    for (brand_id, topic_id, purpose, channel), group in groups.items():
        sending = Sending(brand_id, Purpose(purpose), topic_id, Channel(channel), now)
        decisions = check(session, sending, [r.person_id for r in group])
        for row in group:
            decision = decisions[row.person_id]
            if decision.reason is Reason.unverified and confirms_address(row):
                decision = Decision(None)
            settled = _without_sending(row, sources, decision, now)
            if settled is None:
                sendable.add(row.id)
            else:
                results.append(settled)
                _count(settled, outcome)
    return sendable


def confirms_address(row: OutboxRow) -> bool:
    """A message that asks the person to confirm consent a brand recorded or imported: the
    one message that may go to an address not confirmed yet (it is how it gets confirmed).
    Only Accord writes this flag; brands' messages carry their own subject and text only."""
    return bool((row.payload or {}).get("confirms_address"))


def _unconfirmed(session: Session, channel: str, people: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The people's unsuppressed primary address on `channel`, confirmed or not."""
    rows = session.execute(
        select(ContactPoint.person_id, ContactPoint.address)
        .where(
            among(session, ContactPoint.person_id, "people", people),
            ContactPoint.channel == channel,
            ContactPoint.suppressed_reason.is_(None),
        )
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.created_at)
    ).all()
    found: dict[uuid.UUID, str] = {}
    for person_id, address in rows:
        found.setdefault(person_id, address)
    return found


def _hand_over(
    session: Session, channels: Channels, name: str, rows: list[OutboxRow], hand: HandOver
) -> None:
    """One channel's sendable rows to its adapter; with none configured they fail."""
    try:
        adapter = channels.get(name)
    except LookupError as exc:  # no adapter configured: these fail, the others go
        for row in rows:
            hand.outcome.failed += 1
            hand.results.append(failed(row, "no_channel", str(exc)))
        return
    to = adapter.addresses(session, [r.person_id for r in rows])
    asking = [r.person_id for r in rows if r.person_id not in to and confirms_address(r)]
    if asking:
        to.update(_unconfirmed(session, name, asking))
    hand.run(adapter, rows, to)


def process(
    session: Session,
    settings: Settings,
    channels: Channels,
    claimed: Sequence[tuple[int, uuid.UUID]],
    now: datetime,
    owner: str,
    write_rate: RateWriter = in_session,
    interrupt: Callable[[], bool] | None = None,
    record: Recorder | None = None,
    journal: Journal | None = None,
) -> tuple[Outcome, list[tuple[int, uuid.UUID]], list[Suppression]]:
    """Check and send the claimed rows (id, person) this worker still holds the lease of.

    Between two hand-overs `interrupt()` may ask the chunk to end early (SQLite: someone waits
    for the write lock); the rows not reached are returned, still leased, for a transaction of
    their own. At least one message goes first, so every chunk makes progress. `record`
    writes each hand-over durably as it happens (`journal`). Also returned: the addresses
    channels said will never work, to suppress once the chunk has committed (`suppress`).

    The heads are locked before our rows are touched: an erasure holds the head, then deletes
    the person's outbox rows, so the other order could deadlock with it."""
    lock_heads(session, sorted({person for _, person in claimed}))
    until = now + timedelta(seconds=settings.worker_lease_seconds)
    rows = renew_leases(session, [row_id for row_id, _ in claimed], owner, until)
    outcome = Outcome()
    if not rows:
        return outcome, [], []
    order = {row_id: i for i, (row_id, _) in enumerate(claimed)}
    rows.sort(key=lambda r: order[r.id])  # the claim's order: brands take turns
    every = rows
    results: list[dict[str, Any]] = []
    if journal is not None:  # handed over by a chunk that never committed: not again
        rows = _recovered(session, journal, rows, outcome, results)
    sources = compose.load(session, rows)
    sendable = _checked(session, rows, sources, now, outcome, results)
    by_channel: dict[str, list[OutboxRow]] = {}
    for row in rows:
        if row.id in sendable:
            by_channel.setdefault(row.channel, []).append(row)
    wanted = Counter(row.brand_id for row in rows if row.id in sendable)
    slots = {
        brand_id: Slots(
            session, write_rate, brand_id, sources.brands[brand_id].send_rate_per_second, now, n
        )
        for brand_id, n in wanted.items()
    }
    hand = HandOver(
        session,
        compose.Drafting(settings, sources),
        now,
        outcome,
        results,
        slots,
        wanted,
        interrupt,
        record,
    )
    for name, channel_rows in by_channel.items():
        if hand.left:  # interrupted: the other channels wait for the next transaction
            hand.left.extend(channel_rows)
        else:
            _hand_over(session, channels, name, channel_rows, hand)
    for brand_slots in slots.values():
        brand_slots.release()
    record_outcomes(session, results)
    if journal is not None:
        journal.forget(session, [row.id for row in every])
    _tell_brands(session, every, results, now)
    return outcome, [(row.id, row.person_id) for row in hand.left], hand.suppressions


def _recovered(
    session: Session,
    journal: Journal,
    rows: list[OutboxRow],
    outcome: Outcome,
    results: list[dict[str, Any]],
) -> list[OutboxRow]:
    """The rows the journal says a channel already took (a worker killed or cut off before its
    chunk committed): recorded as it says, without the gate or a second hand-over; the others
    are returned."""
    handed = journal.found(session, rows)
    for row in rows:
        entry = handed.get(row.id)
        if entry is not None:
            outcome.sent += 1
            results.append(
                result(
                    row,
                    entry.status,
                    reason=None,
                    sent_at=entry.sent_at,
                    ref=entry.provider_ref,
                    attempts=max(1, row.attempts - 1),  # the claim that found it sent nothing
                )
            )
    return [row for row in rows if row.id not in handed]


HANDED_STATES = {"sent": MESSAGE_SENT.name, "delivered": MESSAGE_DELIVERED.name}


def _tell_brands(
    session: Session, rows: list[OutboxRow], results: list[dict[str, Any]], now: datetime
) -> None:
    """`message.sent` / `message.delivered` webhooks for the chunk's hand-overs, in its own
    transaction (so only if they commit); idempotent by outbox row. One endpoint look-up per
    brand and kind; nothing is written for a brand without a subscribed endpoint."""
    by_id = {row.id: row for row in rows}
    events: dict[tuple[uuid.UUID, str], list[tuple[str, dict[str, Any]]]] = {}
    for outcome in results:
        kind = HANDED_STATES.get(outcome["b_state"])
        row = by_id.get(outcome["b_id"])
        if kind is None or row is None:
            continue
        data = {
            "outbox_id": row.id,
            "person_id": str(row.person_id),
            "campaign_id": str(row.campaign_id) if row.campaign_id else None,
            "channel": row.channel,
            "at": now.isoformat(),
        }
        events.setdefault((row.brand_id, kind), []).append((f"msg_{kind}_{row.id}", data))
    for (brand_id, kind), batch in events.items():
        webhooks.emit_many(session, brand_id, kind, batch, at=now)


def suppress(session: Session, settings: Settings, suppressions: list[Suppression]) -> None:
    """Suppress the contact points channels refused for good, each with a ledger event. In a
    transaction of its own after the chunk's: it writes the people's ledger heads, which the
    chunk only shares."""
    for item in suppressions:
        point = session.scalars(
            select(ContactPoint).where(
                ContactPoint.person_id == item.person_id,
                ContactPoint.channel == item.channel,
                ContactPoint.address == item.address,
            )
        ).first()
        if point is not None and point.suppressed_reason is None:
            people_service.suppress_contact_point(session, settings, point, "undeliverable")


def _count(settled: dict[str, Any], outcome: Outcome) -> None:
    if settled["b_state"] == "skipped":
        outcome.skipped += 1
    elif settled["b_state"] == "deferred":
        outcome.deferred += 1
    elif settled["b_state"] == "dead":
        outcome.dead += 1


def _without_sending(
    row: OutboxRow, sources: compose.Sources, decision: Decision, now: datetime
) -> dict[str, Any] | None:
    """Given up, cancelled, expired or refused by the gate: record why and do not send."""
    if row.attempts > MAX_ATTEMPTS:
        # Claimed again and again without a verdict (a worker killed or cut off each time it
        # held the row): every path has the same cap.
        return result(
            row,
            "dead",
            reason="attempts",
            error=f"No verdict after {MAX_ATTEMPTS} attempts: the worker holding it stopped "
            "each time (killed, or its database connection lost).",
        )
    campaign = sources.campaigns.get(row.campaign_id) if row.campaign_id else None
    if campaign is not None and campaign.state == "cancelled":
        return result(row, "cancelled", reason="cancelled")
    if row.expires_at is not None and now >= row.expires_at:
        return result(row, "skipped", reason="expired")
    if decision.defer_until is not None:  # a deferring rule (quiet hours): it waits
        if row.expires_at is not None and decision.defer_until >= row.expires_at:
            return result(row, "skipped", reason="expired")
        return result(
            row,
            "deferred",
            reason=decision.reason,
            not_before=decision.defer_until,
            attempts=row.attempts - 1,
        )
    if decision.reason is not None:
        return result(row, "skipped", reason=decision.reason)
    return None
