"""An audience counted by the gate's reasons, its statement built and compiled once.

A draft campaign's page counts its audience by reason on every view (`gate_sql.gate_select`,
grouped). Building that statement (the audience joined to every fact, the rules' CASE, the
terms' conditions) and SQLAlchemy's cache key for it were most of the page's time; SQLite ran
it in a fraction of that. What the statement is depends on no row but these: the audience's
definition, the sending but its moment, the legal rules loaded and, where a rule reads the
local time, the time zones in use. So it is built once for each of them and only run after
that, straight on the session's cursor (`core.direct`); the moment's values (the moment, the
starts of the cap and legal windows, each zone's local minute) are its bound parameters
(`gate_sql.moment_values`). The rules are the same ones: the statement is `gate_select`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from accord.campaigns.audience import audience_key, audience_of
from accord.campaigns.gate_legal import LegalRules, legal_rules
from accord.campaigns.gate_rules import INTERRUPTIVE, Sending
from accord.campaigns.gate_sql import Audience, clock_zones, gate_select, moment_values
from accord.campaigns.models import Campaign
from accord.core.direct import Direct
from accord.core.kept import Kept

# Audiences (campaigns) whose counts a process keeps ready, past which it starts afresh.
MOST = 512


@dataclass(frozen=True)
class _Counts:
    legal: LegalRules  # the rules it was built with (the key holds only their identity)
    zones: list[str]  # the zones its local minutes are for, in its parameters' order
    statement: Select[Any]
    direct: Direct


_BUILT: Kept[_Counts] = Kept(MOST)


def reason_counts(
    session: Session,
    sending: Sending,
    audience: Callable[[], Audience],
    audience_key: Hashable,
) -> dict[str, int]:
    """`gate_sql.reason_counts` of `gate_select(session, sending, audience())`. `audience_key`
    names the audience's definition: two audiences with the same key must be the same SELECT
    (a campaign's: `audience.audience_key`). `audience` is called only to build."""
    legal = legal_rules(session, sending)
    clocked = sending.channel in INTERRUPTIVE or legal.has_window
    zones = clock_zones(session) if clocked else []
    dialect = session.get_bind().dialect
    key = (
        dialect.name,
        audience_key,
        sending.brand_id,
        sending.purpose,
        sending.topic_id,
        sending.channel,
        id(legal),
        tuple(zones),
    )

    def build() -> _Counts:
        gate = gate_select(session, sending, audience()).subquery()
        statement = select(gate.c.reason, func.count()).group_by(gate.c.reason)
        return _Counts(legal, zones, statement, Direct(statement))

    found = _BUILT.get(key, build, fresh=lambda kept: kept.legal is legal)
    compiled = found.direct.compiled(dialect)
    values = {
        name: value
        for name, value in moment_values(sending, legal, found.zones).items()
        if name in compiled.binds
    }
    if compiled.expanding:  # an IN over a list (SQLAlchemy expands it): built once still
        rows: Any = session.execute(found.statement, values).all()
    else:
        rows = found.direct.all(session, **values)
    return {(reason or "eligible"): int(count) for reason, count in rows}


def of_campaign(session: Session, sending: Sending, campaign: Campaign) -> dict[str, int]:
    """`reason_counts` of the campaign's audience (`audience.audience_of`)."""
    return reason_counts(session, sending, lambda: audience_of(campaign), audience_key(campaign))
