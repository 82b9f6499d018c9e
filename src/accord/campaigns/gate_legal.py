"""The legal rules (`accord.compliance`) as the gate reads them for one kind of sending: the
loaded rules folded per place (the strictest rule wins) for the sending's channel and purpose.

Both forms of the gate read the same folds: the per-message check picks each person's fold by
their place (`Person.place_country`, `place_subdivision`), the SQL gate joins the folds as a
small table on the same columns. A place no rule names falls back to its country, then to
everywhere ("*")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from accord.campaigns.gate_rules import Sending
from accord.compliance import service as compliance

EVERYWHERE = compliance.EVERYWHERE
# A frequency limit's key: (hours, per) with per "topic" or "brand".
LimitKey = tuple[int, str]


@dataclass(frozen=True)
class LegalRules:
    """The folds of one sending's rules: by place, and the frequency limits' keys (in order)."""

    folds: dict[tuple[str, str], compliance.Fold]
    limits: tuple[LimitKey, ...]
    has_window: bool
    world: compliance.Fold = field(default_factory=compliance.Fold)

    @property
    def applies(self) -> bool:
        return self.has_window or bool(self.limits)

    def fold_at(self, country: str | None, subdivision: str | None) -> compliance.Fold:
        if country:
            found = self.folds.get((country, subdivision or ""))
            if found is None and subdivision:
                found = self.folds.get((country, ""))
            if found is not None:
                return found
        return self.world

    def maxima(self, fold: compliance.Fold) -> tuple[int | None, ...]:
        """The fold's maximum per limit key (None: no such limit there)."""
        by_key = {(limit.hours, limit.per): limit.max_messages for limit in fold.limits}
        return tuple(by_key.get(key) for key in self.limits)


def legal_rules(session: Session, sending: Sending) -> LegalRules:
    ruleset = compliance.rules(session)
    channel, purpose = sending.channel.value, sending.purpose.value
    # The same rule set object comes back until another is loaded (compliance.store): its
    # folds are kept with it, and checked to be its own (a reload may run beside a read).
    key = (id(ruleset), channel, purpose)
    found = _FOLDED.get(key)
    if found is None or found[0] is not ruleset:
        if len(_FOLDED) > 64:
            _FOLDED.clear()
        found = _FOLDED[key] = (ruleset, fold_rules(ruleset, channel, purpose))
    return found[1]


_FOLDED: dict[tuple[int, str, str], tuple[Any, LegalRules]] = {}


def fold_rules(ruleset: compliance.RuleSet, channel: str, purpose: str) -> LegalRules:
    folds = {
        (country, subdivision): ruleset.fold(
            None if country == EVERYWHERE else country, subdivision or None, channel, purpose
        )
        for country, subdivision in ruleset.places()
    }
    world = folds.pop((EVERYWHERE, ""), compliance.Fold())
    every = [world, *folds.values()]
    keys = sorted({(limit.hours, limit.per) for fold in every for limit in fold.limits})
    return LegalRules(
        folds=folds,
        limits=tuple(keys),
        has_window=any(fold.window is not None for fold in every),
        world=world,
    )
