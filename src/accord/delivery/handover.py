"""A chunk's sendable messages handed to their channel adapters, one channel at a time.

The worker's side of the channel interface (`channels.base`): it feeds an adapter a lazy
batch, making each row's message only when the adapter asks for it (so it overlaps the
channel's wait for the one before), and settles each row as its verdict comes back. Before a
message is made: the interruption test (SQLite: someone waits for the write lock; at least one
message goes first) and the brand's rate. A message that cannot be made fails alone. A `sent`
verdict is written to the hand-over journal at once (`journal`), before the adapter goes on,
so a crash re-sends at most the message in flight.
"""

from __future__ import annotations

import uuid
from collections import Counter, deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from accord.campaigns import service as campaigns
from accord.delivery.channels.base import Channel, Composed, ComposeError, Verdict
from accord.delivery.compose import Drafting
from accord.delivery.outcomes import OutboxRow, Outcome, backoff, failed, of_verdict, result
from accord.delivery.slots import Slots

# Records a hand-over durably before the next one starts: (row, address, verdict, now).
Recorder = Callable[[OutboxRow, str, Verdict, datetime], None]


@dataclass
class Suppression:
    """An address a channel said will never work (`Verdict.suppress`)."""

    person_id: uuid.UUID
    channel: str
    address: str
    why: str


@dataclass
class HandOver:
    session: Session
    drafting: Drafting
    now: datetime
    outcome: Outcome
    results: list[dict[str, Any]]
    slots: dict[uuid.UUID, Slots]
    remaining: Counter[uuid.UUID]  # sendable rows per brand not reached yet
    interrupt: Callable[[], bool] | None = None
    record: Recorder | None = None
    started: int = 0
    left: list[OutboxRow] = field(default_factory=list)  # interrupted: for the next transaction
    suppressions: list[Suppression] = field(default_factory=list)

    def run(self, channel: Channel, rows: list[OutboxRow], to: dict[uuid.UUID, str]) -> None:
        """Hand `rows` (sendable, in the order they go) to `channel`; `to`: addresses."""
        in_flight: deque[tuple[OutboxRow, str]] = deque()
        reached = 0
        interrupted = False

        def feed() -> Generator[Composed]:
            nonlocal reached, interrupted
            while reached < len(rows):
                row = rows[reached]
                if self.interrupt is not None and self.started and self.interrupt():
                    interrupted = True
                    return
                reached += 1
                composed = self._make(channel, row, to.get(row.person_id))
                if composed is not None:
                    self.started += 1
                    in_flight.append((row, composed.draft.address))
                    yield composed

        batch = feed()  # a generator (closed below): it may be left half-way
        handed = channel.hand_over(self.session, batch)
        last: Verdict | None = None
        try:
            for composed, verdict in handed:
                row, address = in_flight.popleft()
                if composed.draft.outbox_id != row.id:
                    raise RuntimeError(f"{channel.name}: verdicts out of order")
                self._settle(channel, row, address, verdict)
                last = verdict
        finally:
            handed_close = getattr(handed, "close", None)
            if handed_close is not None:
                handed_close()
            batch.close()
        if in_flight:
            raise RuntimeError(f"{channel.name}: {len(in_flight)} message(s) without a verdict")
        if interrupted:
            self.left.extend(rows[reached:])
        else:
            self._requeue(rows[reached:], last)

    def _requeue(self, rest: list[OutboxRow], last: Verdict | None) -> None:
        """The adapter stopped asking (its channel is unreachable, or throttles us): the rest
        wait, as long as it said, without counting an attempt."""
        pause = timedelta(seconds=last.retry_after) if last and last.retry_after else backoff(1)
        for row in rest:
            self.remaining[row.brand_id] -= 1
            self.results.append(
                result(row, "queued", not_before=self.now + pause, attempts=row.attempts - 1)
            )

    def _make(self, channel: Channel, row: OutboxRow, address: str | None) -> Composed | None:
        """The row's message, or None when it cannot go now (its outcome recorded)."""
        brand = row.brand_id
        remaining = self.remaining[brand]
        self.remaining[brand] -= 1
        if address is None:  # the gate saw an address on this channel; it went meanwhile
            self.outcome.skipped += 1
            self.results.append(result(row, "skipped", reason="no_contact_point"))
            return None
        if not self.slots[brand].use(remaining):
            # The brand's rate is used up for this second. Not an attempt.
            later = self.now + timedelta(seconds=1)
            self.results.append(result(row, "queued", not_before=later, attempts=row.attempts - 1))
            return None
        try:
            with campaigns.message_budget():  # the limits hold for the message as a whole
                return channel.compose(self.drafting.draft(row, address))
        except campaigns.TemplateLimit as exc:
            self.outcome.failed += 1
            self.results.append(failed(row, "template_limit", str(exc)))
        except ComposeError as exc:
            self.outcome.failed += 1
            self.results.append(failed(row, exc.reason, str(exc)))
        except Exception as exc:  # a template or adapter fault fails that message alone
            self.outcome.failed += 1
            detail = f"The message could not be made: {type(exc).__name__}: {exc}"
            self.results.append(failed(row, "render_error", detail))
        return None

    def _settle(self, channel: Channel, row: OutboxRow, address: str, verdict: Verdict) -> None:
        if (
            verdict.status in ("sent", "delivered")
            and self.record is not None
            and not channel.in_transaction
        ):
            self.record(row, address, verdict, self.now)
        if verdict.suppress:
            why = verdict.code or verdict.detail or "refused for good"
            self.suppressions.append(Suppression(row.person_id, channel.name, address, why))
        self.results.append(of_verdict(row, verdict, address, self.now, self.outcome))
