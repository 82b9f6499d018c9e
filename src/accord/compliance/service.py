"""The compliance domain's public face: the legal rules as data, loaded and read.

Both forms of the gate (campaigns) read the loaded rules through `rules` and fold them per
place with `RuleSet.fold`; `accord compliance load` replaces them from a rules file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from accord.compliance import store
from accord.compliance.rules import (
    EVERYWHERE,
    PACKAGED,
    Fold,
    Limit,
    Rule,
    RuleSet,
    RulesFileError,
    hhmm,
    parse,
    read,
)

__all__ = [
    "EVERYWHERE",
    "PACKAGED",
    "Fold",
    "Limit",
    "Rule",
    "RuleSet",
    "RulesFileError",
    "check_file",
    "hhmm",
    "load_file",
    "load_rules",
    "parse",
    "rules",
]


def check_file(path: Path | None = None) -> RuleSet:
    """The rule set in the file, checked (RulesFileError names the first wrong row)."""
    return read(path)


def load_file(session: Session, path: Path | None = None) -> RuleSet:
    """Check the whole file, then replace the loaded rules with it: nothing partial."""
    ruleset = read(path)
    store.write(session, ruleset)
    return ruleset


def load_rules(session: Session, ruleset: RuleSet) -> None:
    """Replace the loaded rules with a checked rule set (from `parse`)."""
    store.write(session, ruleset)


def rules(session: Session) -> RuleSet:
    return store.read(session)
