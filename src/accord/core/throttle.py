"""Password sign-in throttling, per account and per client IP, with exponential back-off.

A few failures are free (typing mistakes); after that each failure doubles the wait before the
next try of that account or from that IP is even checked: 1 s, 2 s, 4 s … up to 15 minutes.
While a key waits, every try is refused with a 429, the right password too. Failures are
forgotten an hour after the last one; a success forgets the account's (not the IP's). Keys
are keyed hashes: no address or IP is stored in clear. Unknown accounts are throttled alike,
so the answers tell nothing about which accounts exist.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from accord.core.auth_models import SignInThrottle
from accord.core.db import insert_or_ignore, utcnow
from accord.core.errors import RateLimited
from accord.core.security import keyed_hash, normalise_email
from accord.core.settings import Settings

FORGET_AFTER = timedelta(hours=1)
LONGEST_WAIT = timedelta(minutes=15)


def account_key(settings: Settings, email: str) -> str:
    return keyed_hash(
        settings.resolved_secret_key(), normalise_email(email), purpose="sign-in-account"
    )


def ip_key(settings: Settings, ip: str) -> str:
    return keyed_hash(settings.resolved_secret_key(), ip, purpose="sign-in-ip")


def wait_after(failures: int, free: int) -> timedelta:
    """How long a key waits after its `failures`-th failure."""
    if failures < free:
        return timedelta(0)
    return min(LONGEST_WAIT, timedelta(seconds=2 ** min(failures - free, 20)))


def _keys(settings: Settings, email: str, ip: str | None) -> dict[str, int]:
    """Each key with its free failures."""
    keys = {account_key(settings, email): settings.sign_in_failures_per_account}
    if ip:
        keys[ip_key(settings, ip)] = settings.sign_in_failures_per_ip
    return keys


def check(session: Session, settings: Settings, email: str, ip: str | None) -> None:
    """Refuse (429) while the account or the IP waits; before the password is looked at."""
    now = utcnow()
    until = session.scalar(
        select(SignInThrottle.blocked_until)
        .where(
            SignInThrottle.key.in_(list(_keys(settings, email, ip))),
            SignInThrottle.blocked_until > now,
        )
        .order_by(SignInThrottle.blocked_until.desc())
        .limit(1)
    )
    if until is not None:
        seconds = max(1, math.ceil((until - now).total_seconds()))
        raise RateLimited(
            f"Too many failed sign-ins. Wait {seconds} seconds, then try again.",
            field="password",
            retry_after=seconds,
        )


def failed(session: Session, settings: Settings, email: str, ip: str | None) -> None:
    """Count one failure for the account and the IP, and set how long each must wait."""
    now = utcnow()
    for key, free in _keys(settings, email, ip).items():
        insert_or_ignore(
            session, SignInThrottle, {"key": key, "failures": 0, "last_failure_at": now}
        )
        stale = SignInThrottle.last_failure_at < now - FORGET_AFTER
        failures = session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.key == key)
            .values(
                failures=case((stale, 1), else_=SignInThrottle.failures + 1),
                last_failure_at=now,
            )
            .returning(SignInThrottle.failures)
        ).scalar_one()
        wait = wait_after(failures, free)
        session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.key == key)
            .values(blocked_until=now + wait if wait else None)
        )


def succeeded(session: Session, settings: Settings, email: str) -> None:
    key = account_key(settings, email)
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == key))
