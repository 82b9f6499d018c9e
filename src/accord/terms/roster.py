"""Reading the roster: every version of every personal agreement, and their effects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.core.errors import NotFound
from accord.core.kept import Kept
from accord.core.prepared import Prepared
from accord.core.read_memo import remembered
from accord.terms.models import RosterEffect, RosterEntry
from accord.terms.vocabulary import Effect

T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """A roster entry with its effects, detached from the session."""

    slug: str
    version: int
    title: str
    text: str
    machine: dict[str, object]
    follows: str | None
    follows_url: str | None
    effects: tuple[Effect, ...]

    @property
    def key(self) -> tuple[str, int]:
        return (self.slug, self.version)


def effects_by_entry(session: Session) -> dict[tuple[str, int], list[Effect]]:
    """Each roster entry's effects, by (id, version)."""
    return remembered(
        session, ("terms_roster_effects",), lambda: _kept(session, "effects", _effects)
    )


# The roster's rows are immutable (the database refuses UPDATE and DELETE on both tables): it
# changes only by new rows, so how many there are, and the latest publication, tell whether
# what this process read before still holds. Checking that is one prepared statement, where
# reading the roster (its texts, each version's effects) through the ORM was a fifth of the
# person's terms page; it is checked on every read, so a new version shows at once.
_STATE = Prepared(
    select(
        select(func.count()).select_from(RosterEntry).scalar_subquery().label("entries"),
        select(func.max(RosterEntry.published_at)).scalar_subquery().label("latest"),
        select(func.count()).select_from(RosterEffect).scalar_subquery().label("effects"),
    )
)
_KEPT: Kept[Any] = Kept(64)  # (database, state, read) keys; a test run makes many databases


def _kept(session: Session, name: str, read: Callable[[Session], T]) -> T:
    """`read(session)`, kept for this database while the roster's state stays the same."""
    state = remembered(session, ("terms_roster_state",), lambda: _STATE.first(session))
    key = (str(session.get_bind().engine.url), name, tuple(state))
    kept: T = _KEPT.get(key, lambda: read(session))
    return kept


# Built once: a relationship page with terms in force reads it on every view.
_EFFECTS = select(RosterEffect.slug, RosterEffect.version, RosterEffect.effect).order_by(
    RosterEffect.effect
)


def _effects(session: Session) -> dict[tuple[str, int], list[Effect]]:
    found: dict[tuple[str, int], list[Effect]] = {}
    for row in session.execute(_EFFECTS):
        found.setdefault((row.slug, row.version), []).append(Effect(row.effect))
    return found


def entries(session: Session, *, latest_only: bool = False) -> list[Entry]:
    """Every roster entry in a stable order (by id, newest version first)."""
    # The console's terms page asks three times (its lists, each agreement's terms).
    key = ("terms_roster", latest_only)
    name = "latest" if latest_only else "entries"
    read = partial(_entries, latest_only=latest_only)
    return list(remembered(session, key, lambda: _kept(session, name, read)))


def _entries(session: Session, latest_only: bool) -> list[Entry]:
    effects = effects_by_entry(session)
    rows = session.scalars(
        select(RosterEntry).order_by(RosterEntry.slug, RosterEntry.version.desc())
    )
    found: list[Entry] = []
    seen: set[str] = set()
    for row in rows:
        if latest_only and row.slug in seen:
            continue
        seen.add(row.slug)
        found.append(
            Entry(
                slug=row.slug,
                version=row.version,
                title=row.title,
                text=row.text,
                machine=dict(row.machine),
                follows=row.follows,
                follows_url=row.follows_url,
                effects=tuple(effects.get((row.slug, row.version), ())),
            )
        )
    return found


def entry(
    session: Session,
    slug: str,
    version: int | None = None,
    *,
    field: str = "terms",
    version_field: str = "version",
) -> Entry:
    """One version of an entry (the latest without `version`); a 404 naming `field` when the
    roster has no such id or version."""
    candidates = [e for e in entries(session) if e.slug == slug]
    if not candidates:
        raise NotFound(f"The roster has no agreement with the id '{slug}'.", field=field)
    if version is None:
        return candidates[0]
    for candidate in candidates:
        if candidate.version == version:
            return candidate
    known = ", ".join(str(c.version) for c in candidates)
    raise NotFound(
        f"The agreement '{slug}' has no version {version} (versions: {known}).",
        field=version_field,
    )
