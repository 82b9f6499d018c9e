"""`GET /metrics`: the delivery queue and the workers in Prometheus' text format.

Everything is read from the database at scrape time (a few grouped counts over the outbox and
the workers' counters), so any web process answers for the whole fleet of workers:

- `accord_outbox_messages{state}`: messages in each state (the queue depth: queued,
  deferred, sending, paused; and the settled ones);
- `accord_messages_sent_total{channel}`: messages handed to each channel;
- `accord_messages_failed_total{reason}`: failures by reason (the channel's code when the
  worker recorded one);
- `accord_gate_rejections_total{reason}`: messages the gate kept back at sending time;
- `accord_lease_takeovers_total`: claimed messages another worker took over after the
  lease ran out (a worker died or stalled);
- `accord_outbox_oldest_due_seconds`: how long the oldest due message has waited.

Operators only: `Authorization: Bearer <ACCORD_METRICS_TOKEN>`; without a token set, only
in dev (`ACCORD_ENVIRONMENT=dev`), and a 404 otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.core.db import utcnow
from accord.core.errors import NotAuthenticated, NotFound
from accord.core.security import constant_time_equal
from accord.core.web.deps import SessionDep, SettingsDep
from accord.delivery import counters
from accord.outbox.models import OutboxMessage

router = APIRouter(tags=["operations"])

METRICS_TOKEN = HTTPBearer(
    auto_error=False,
    scheme_name="MetricsToken",
    description="`Authorization: Bearer <ACCORD_METRICS_TOKEN>`.",
)
STATES = ("queued", "deferred", "sending", "paused", "sent", "skipped", "failed", "cancelled")


def require_operator(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(METRICS_TOKEN)],
) -> None:
    expected = settings.metrics_token.get_secret_value()
    if not expected:
        if settings.is_dev:
            return
        raise NotFound("Not found.")
    supplied = credentials.credentials.strip() if credentials is not None else ""
    if not supplied or not constant_time_equal(expected, supplied):
        raise NotAuthenticated("The metrics token is required.", field="Authorization")


class Queue(Collector):
    """The figures, read in one pass when Prometheus scrapes."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now

    def _grouped(self, column: Any, state: str) -> dict[str, int]:
        o = OutboxMessage
        rows = self.session.execute(
            select(column, func.count()).where(o.state == state).group_by(column)
        )
        return {str(key or "unknown"): int(n) for key, n in rows}

    def collect(self) -> Iterator[Metric]:
        o = OutboxMessage
        by_state = {state: 0 for state in STATES}
        for state, n in self.session.execute(select(o.state, func.count()).group_by(o.state)):
            by_state[state] = int(n)
        depth = GaugeMetricFamily(
            "accord_outbox_messages", "Outbox messages in each state.", labels=["state"]
        )
        for state, n in sorted(by_state.items()):
            depth.add_metric([state], n)
        yield depth
        sent = CounterMetricFamily(
            "accord_messages_sent", "Messages handed to each channel.", labels=["channel"]
        )
        for channel, n in sorted(self._grouped(o.channel, "sent").items()):
            sent.add_metric([channel], n)
        yield sent
        failed = CounterMetricFamily(
            "accord_messages_failed", "Messages that failed, by reason.", labels=["reason"]
        )
        for reason, n in sorted(
            self._grouped(func.coalesce(o.error_code, o.reason), "failed").items()
        ):
            failed.add_metric([reason], n)
        yield failed
        gate = CounterMetricFamily(
            "accord_gate_rejections",
            "Messages the gate kept back at sending time, by reason.",
            labels=["reason"],
        )
        for reason, n in sorted(self._grouped(o.reason, "skipped").items()):
            gate.add_metric([reason], n)
        yield gate
        taken = counters.values(self.session).get(counters.LEASE_TAKEOVERS, 0)
        yield CounterMetricFamily(
            "accord_lease_takeovers",
            "Claimed messages taken over after their worker's lease ran out.",
            value=taken,
        )
        oldest = self.session.scalar(
            select(func.min(o.not_before)).where(
                o.state.in_(("queued", "deferred")), o.not_before <= self.now
            )
        )
        wait = (self.now - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "accord_outbox_oldest_due_seconds",
            "Seconds the oldest due message has waited to be claimed.",
            value=max(wait, 0.0),
        )


@router.get(
    "/metrics",
    dependencies=[Depends(require_operator)],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text."}},
)
def metrics(session: SessionDep) -> Response:
    """Queue and worker metrics in Prometheus' text format (operators only)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Queue(session, utcnow()))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
