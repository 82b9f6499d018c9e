"""A rule set into the tables (replacing what was there) and back out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from accord.compliance.models import Jurisdiction as JurisdictionRow
from accord.compliance.models import JurisdictionPlace, LegalRule
from accord.compliance.rules import Jurisdiction, Rule, RuleSet
from accord.core.db import utcnow
from accord.core.direct import Direct


def write(session: Session, ruleset: RuleSet) -> None:
    """Replace the loaded rules with `ruleset` in the caller's transaction: readers see the old
    set or the new one, never a mix."""
    for model in (LegalRule, JurisdictionPlace, JurisdictionRow):
        session.execute(delete(model))
    now = utcnow()
    if ruleset.jurisdictions:
        session.execute(
            insert(JurisdictionRow),
            [{"code": j.code, "name": j.name} for j in ruleset.jurisdictions],
        )
        session.execute(
            insert(JurisdictionPlace),
            [
                {"jurisdiction": j.code, "country": country, "subdivision": subdivision}
                for j in ruleset.jurisdictions
                for country, subdivision in j.places
            ],
        )
    if ruleset.rules:
        session.execute(
            insert(LegalRule),
            [
                {
                    "id": r.id,
                    "jurisdiction": r.jurisdiction,
                    "channel": r.channel,
                    "purpose": r.purpose,
                    "kind": r.kind,
                    "window_start": r.window_start,
                    "window_end": r.window_end,
                    "max_messages": r.max_messages,
                    "hours": r.hours,
                    "per": r.per,
                    "consent": r.consent,
                    "source": r.source,
                    "url": r.url,
                    "loaded_at": now,
                }
                for r in ruleset.rules
            ],
        )
    session.flush()


# What identifies the loaded rule set: `write` replaces every table and stamps each rule with
# the time it ran, so a new set changes these (the rule set itself is small, but reading and
# building it costs a campaign page's preview several ORM rounds).
# Built once and run on the cursor (`core.direct`): every preview and gate check reads it.
_VERSION = Direct(
    select(
        select(func.count()).select_from(LegalRule).scalar_subquery(),
        select(func.max(LegalRule.loaded_at)).scalar_subquery(),
        select(func.count()).select_from(JurisdictionPlace).scalar_subquery(),
        select(func.count()).select_from(JurisdictionRow).scalar_subquery(),
    )
)
_READ: dict[tuple[Any, ...], RuleSet] = {}


def read(session: Session) -> RuleSet:
    """The loaded rule set: read once per process for each set loaded."""
    version = tuple(_VERSION.first(session))
    found = _READ.get(version)
    if found is None:
        found = _read(session)
        _READ.clear()  # one set is loaded at a time
        _READ[version] = found
    return found


def _read(session: Session) -> RuleSet:
    places: dict[str, list[tuple[str, str]]] = {}
    for row in session.execute(
        select(
            JurisdictionPlace.jurisdiction, JurisdictionPlace.country, JurisdictionPlace.subdivision
        ).order_by(
            JurisdictionPlace.jurisdiction, JurisdictionPlace.country, JurisdictionPlace.subdivision
        )
    ):
        places.setdefault(row.jurisdiction, []).append((row.country, row.subdivision))
    jurisdictions = tuple(
        Jurisdiction(code, name, tuple(places.get(code, ())))
        for code, name in session.execute(
            select(JurisdictionRow.code, JurisdictionRow.name).order_by(JurisdictionRow.code)
        )
    )
    rules = tuple(
        Rule(
            id=r.id,
            jurisdiction=r.jurisdiction,
            channel=r.channel,
            purpose=r.purpose,
            kind=r.kind,
            source=r.source,
            url=r.url,
            window_start=r.window_start,
            window_end=r.window_end,
            max_messages=r.max_messages,
            hours=r.hours,
            per=r.per,
            consent=r.consent,
        )
        for r in session.scalars(select(LegalRule).order_by(LegalRule.jurisdiction, LegalRule.id))
    )
    return RuleSet(jurisdictions, rules)
