"""Delivering webhooks: claim due deliveries with a lease, POST each signed per Standard
Webhooks (`standardwebhooks`), record the answer, retry with backoff.

Kill-safe and idempotent: a claim is committed before any request goes out and the outcome
after it comes back, so a worker killed in between leaves the delivery leased; when the lease
runs out another worker sends it again, with the same `webhook-id` (the event id), which is how
a receiver drops the copy. No database transaction is open while a request is in flight."""

from __future__ import annotations

import json
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, cast

import httpx
from sqlalchemy import Table, and_, any_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from accord.brands.models import Brand, Member
from accord.core.db import Database, utcnow
from accord.core.errors import InvalidInput
from accord.core.settings import Settings
from accord.mail.service import Email, build_mailer, compose
from accord.webhooks import endpoints, ssrf
from accord.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger("accord.webhooks")
# Standard Webhooks' schedule: the wait before attempt n+1 after n failures.
SCHEDULE = [timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)]
THROTTLE = frozenset({429, 502, 503, 504})
RESPONSE_KEPT = 2000
LEASE = timedelta(minutes=2)
PARALLEL = 8  # requests in flight at once per worker


@dataclass(frozen=True)
class Job:
    id: int
    attempts: int
    endpoint_id: Any
    brand_id: Any
    url: str
    secret: str
    enabled: bool
    event_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: str
    error: str | None
    retry_after: timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def claim(session: Session, owner: str, now: datetime, limit: int) -> list[Job]:
    d = WebhookDelivery
    due = select(d.id).where(
        d.state == "pending",
        d.next_attempt_at <= now,
        or_(d.lease_expires_at.is_(None), d.lease_expires_at < now),
    )
    due = due.order_by(d.next_attempt_at).limit(limit)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        picked = d.id == any_(func.array(due.with_for_update(skip_locked=True).scalar_subquery()))
    else:
        picked = d.id.in_(due.scalar_subquery())
    ids = session.scalars(
        update(d)
        .where(picked)
        .values(lease_owner=owner, lease_expires_at=now + LEASE, attempts=d.attempts + 1)
        .returning(d.id)
    ).all()
    if not ids:
        return []
    rows = session.execute(
        select(
            d.id,
            d.attempts,
            WebhookEndpoint.id.label("endpoint_id"),
            WebhookEndpoint.brand_id,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            WebhookEndpoint.enabled,
            WebhookEvent.id.label("event_id"),
            WebhookEvent.payload,
        )
        .join(WebhookEndpoint, WebhookEndpoint.id == d.endpoint_id)
        .join(WebhookEvent, WebhookEvent.id == d.event_id)
        .where(d.id.in_(ids))
        .order_by(d.id)
    ).all()
    return [Job(**row._mapping) for row in rows]


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return timedelta(seconds=min(int(value), 86400))
    try:
        return max(timedelta(0), parsedate_to_datetime(value) - utcnow())
    except (TypeError, ValueError):
        return None


class Poster:
    """Sends one signed request at a time over kept-alive connections."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = httpx.Client(
            timeout=settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False
        )

    def post(self, job: Job, now: datetime) -> Answer:
        try:
            target = endpoints.check_url(self.settings, job.url)
        except InvalidInput as exc:
            return Answer(None, "", f"refused: {exc.detail}")
        body = json.dumps(job.payload, separators=(",", ":"), sort_keys=True).encode()
        signature = Webhook(job.secret).sign(job.event_id, now, body)
        headers = {
            "content-type": "application/json",
            "user-agent": "Accord-Webhooks/1",
            "webhook-id": job.event_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
            "host": _host_header(target),
        }
        # Connect to the address that was checked, not to whatever the name resolves to now.
        address = f"[{target.address}]" if ":" in target.address else target.address
        url = httpx.URL(job.url).copy_with(host=address.strip("[]"))
        try:
            response = self.client.post(
                url, content=body, headers=headers, extensions={"sni_hostname": target.host}
            )
        except httpx.TimeoutException:
            return Answer(None, "", "timed out")
        except httpx.HTTPError as exc:
            return Answer(None, "", f"connection failed: {type(exc).__name__}")
        text = response.text[:RESPONSE_KEPT]
        retry_after = _retry_after(response) if response.status_code in THROTTLE else None
        return Answer(response.status_code, text, None, retry_after)

    def close(self) -> None:
        self.client.close()


def _host_header(target: ssrf.Target) -> str:
    default = 443 if target.scheme == "https" else 80
    return target.host if target.port == default else f"{target.host}:{target.port}"


def _next_attempt(attempts: int, now: datetime, answer: Answer) -> datetime | None:
    """When to try again after `attempts` failed ones, or None: no more tries."""
    if attempts > len(SCHEDULE):
        return None
    wait = SCHEDULE[attempts - 1]
    wait += timedelta(seconds=wait.total_seconds() * random.uniform(0, 0.1))  # jitter
    if answer.retry_after is not None:
        wait = max(wait, answer.retry_after)
    return now + wait


_deliveries = cast(Table, WebhookDelivery.__table__)
# Every success of a round in one executemany UPDATE (a statement per delivery cost more than
# the request itself); still only while the lease is ours.
_SUCCEEDED = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("job_id"), _deliveries.c.lease_owner.is_not(None))
    .values(
        state="succeeded",
        succeeded_at=bindparam("at"),
        lease_owner=None,
        lease_expires_at=None,
        last_attempt_at=bindparam("at"),
        last_status=bindparam("status"),
        last_response=bindparam("body"),
        last_error=None,
    )
)


def record_all(
    session: Session, settings: Settings, answered: list[tuple[Job, Answer]], now: datetime
) -> None:
    """Record a round's answers in the order they came: each endpoint read once, successes in
    one statement, each failure as `record` does."""
    ids = {job.endpoint_id for job, _ in answered}
    endpoints = {
        e.id: e for e in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.id.in_(ids)))
    }
    succeeded: list[dict[str, Any]] = []
    for job, answer in answered:
        endpoint = endpoints.get(job.endpoint_id)
        if endpoint is None:
            continue
        if answer.ok:
            succeeded.append(
                {"job_id": job.id, "at": now, "status": answer.status, "body": answer.body}
            )
            endpoint.last_success_at, endpoint.failing_since = now, None
        else:
            record(session, settings, job, answer, now)
    if succeeded:
        session.execute(_SUCCEEDED, succeeded)
    session.flush()


def record(session: Session, settings: Settings, job: Job, answer: Answer, now: datetime) -> None:
    d = WebhookDelivery
    mine = and_(d.id == job.id, d.lease_owner.is_not(None))
    common = {
        "lease_owner": None,
        "lease_expires_at": None,
        "last_attempt_at": now,
        "last_status": answer.status,
        "last_response": answer.body,
        "last_error": answer.error,
    }
    endpoint = session.get(WebhookEndpoint, job.endpoint_id)
    if endpoint is None:
        return
    if answer.ok:
        session.execute(update(d).where(mine).values(state="succeeded", succeeded_at=now, **common))
        endpoint.last_success_at, endpoint.failing_since = now, None
        session.flush()
        return
    later = None if answer.status == 410 else _next_attempt(job.attempts, now, answer)
    state = "pending" if later is not None else "failed"
    session.execute(
        update(d).where(mine).values(state=state, next_attempt_at=later or now, **common)
    )
    if answer.status == 410:
        disable(session, settings, endpoint, "The endpoint answered 410 Gone.", now)
        return
    endpoint.failing_since = endpoint.failing_since or now
    limit = timedelta(days=settings.webhook_disable_after_days)
    if endpoint.enabled and now - endpoint.failing_since >= limit:
        days = settings.webhook_disable_after_days
        disable(session, settings, endpoint, f"Every delivery failed for {days} days.", now)
    session.flush()


def disable(
    session: Session, settings: Settings, endpoint: WebhookEndpoint, reason: str, now: datetime
) -> None:
    """Disable the endpoint, stop its pending deliveries, and tell the brand's owners."""
    if not endpoint.enabled:
        return
    endpoints.set_enabled(endpoint, False, reason=reason)
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.state == "pending")
        .values(state="cancelled", lease_owner=None, lease_expires_at=None)
    )
    brand = session.get(Brand, endpoint.brand_id)
    owners = session.scalars(
        select(Member.email).where(Member.brand_id == endpoint.brand_id, Member.role == "owner")
    ).all()
    recipients = list(owners) or ([brand.support_email] if brand and brand.support_email else [])
    text = (
        f"Accord disabled the webhook endpoint {endpoint.url} of {brand.name if brand else ''}.\n"
        f"Reason: {reason}\n\n"
        f"Fix the endpoint, then enable it again in the console:\n"
        f"{settings.base_url}/console/webhooks/{endpoint.id}\n"
        "Deliveries that had not gone out were cancelled; you can replay them there.\n"
    )
    mailer = build_mailer(settings)
    for address in recipients:
        mailer.send(
            session,
            compose(
                settings, Email(to=address, subject="A webhook endpoint was disabled", text=text)
            ),
        )
    session.flush()


def run_once(
    db: Database, settings: Settings, owner: str, *, limit: int = 50, now: datetime | None = None
) -> int:
    """Claim up to `limit` due deliveries, send them (up to `PARALLEL` at once, to different
    or the same endpoints) and record every answer in one transaction. Returns how many were
    attempted. A crash before the record leaves them leased: they go again after the lease,
    with the same webhook-id. `now` (tests, replays of the schedule): the moment the claim and
    the records use."""
    fixed = now

    def clock() -> datetime:
        return fixed if fixed is not None else utcnow()

    with db.transaction() as session:
        jobs = claim(session, owner, clock(), limit)
    if not jobs:
        return 0
    live = [job for job in jobs if job.enabled]
    poster = Poster(settings)
    try:
        # Signed at the real moment, whatever `now`: receivers check the timestamp.
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            answers = list(pool.map(lambda job: poster.post(job, utcnow()), live))
    finally:
        poster.close()
    with db.transaction() as session:
        cancelled = [job.id for job in jobs if not job.enabled]
        if cancelled:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(cancelled))
                .values(state="cancelled", lease_owner=None, lease_expires_at=None)
            )
        record_all(session, settings, list(zip(live, answers, strict=True)), clock())
    return len(jobs)


def drain(
    db: Database,
    settings: Settings,
    owner: str = "drain",
    *,
    now: datetime | None = None,
    rounds: int = 100,
) -> int:
    """Send everything due (at `now`), round after round, until nothing is left."""
    total = 0
    for _ in range(rounds):
        done = run_once(db, settings, owner, now=now)
        total += done
        if not done:
            break
    return total
