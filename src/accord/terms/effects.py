"""The effects in force between a person and a brand, in two forms that must always agree.

- `effects_for`: the effects for one (person, brand), read row by row (the per-message gate
  check, tracking, pages and the API);
- `holds` / `forbids`: the same rule as SQL conditions over a person column and a brand column
  (the gate's audience statement and analytics), with no Python loop per person.

The rule, stated once here and tested as a differential property over random worlds:

An agreement is *in force* between P and B when
  (a) a live agreement row for (P, B) is accepted: its agreed entry counts; or
  (b) P proffers an entry to every brand, B publishes that entry (and version) as accepted, and
      no live row for (P, B) and that roster id exists yet: the brand's published list accepts
      it at once (the signed record is written when either side next looks, see `settle`).
The effects in force are those of every entry in force. Besides, when P wants relationships
"only on my terms" and some entry P proffers to B (to B alone or to every brand) is not in
force, `no_marketing` holds. A live row is one not withdrawn.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Uuid,
    and_,
    bindparam,
    case,
    exists,
    false,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from accord.core.db import among
from accord.core.direct import Direct
from accord.core.read_memo import remembered
from accord.terms import roster
from accord.terms.models import (
    Agreement,
    BrandAcceptance,
    PersonTerms,
    Proffer,
    RosterEffect,
)
from accord.terms.vocabulary import Effect, Status

# Which effects forbid a message of each purpose (the gate's `terms` reason). Transactional
# messages are what the person asked for: no personal agreement forbids them.
FORBIDDEN_BY: dict[str, tuple[Effect, ...]] = {
    "marketing": (Effect.intent_only, Effect.no_marketing),
    "sharing": (Effect.no_sharing,),
    "profiling": (Effect.no_profiling,),
    "transactional": (),
}


@dataclass(frozen=True)
class Effects:
    """The effects in force for one person and one brand, and the entries they come from."""

    effects: frozenset[Effect] = frozenset()
    in_force: frozenset[tuple[str, int]] = frozenset()
    unmet: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    def holds(self, effect: Effect) -> bool:
        return effect in self.effects

    def forbids(self, purpose: str) -> bool:
        return any(effect in self.effects for effect in FORBIDDEN_BY.get(purpose, ()))


def effects_for(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> Effects:
    """The effects in force between the person and the brand, now (once a request: the
    relationship page's terms and tracking sections both ask)."""
    return with_brand(session, person_id, brand_id).effects


@dataclass(frozen=True)
class LiveRow:
    """A live (not withdrawn) agreement row between the person and the brand."""

    slug: str
    version: int
    status: str
    agreed_slug: str | None
    agreed_version: int | None


@dataclass(frozen=True)
class WithBrand:
    """The person's live agreement rows with one brand (newest first) and the effects."""

    rows: tuple[LiveRow, ...]
    effects: Effects


def with_brand(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> WithBrand:
    """The live rows and the effects for one (person, brand), once a request: the rows, the
    proffers, the stance and the brand's published list in one statement, then the roster's
    effects only when there is something to apply them to (the rule is `_apply`, as for
    `effects_for_many`)."""
    return remembered(
        session,
        ("terms_with_brand", person_id, brand_id),
        lambda: _with_brand(session, person_id, brand_id),
    )


def _with_brand_statement() -> Any:
    person = bindparam("person", type_=Uuid())
    brand = bindparam("brand", type_=Uuid())
    a: Any = Agreement.__table__
    p: Any = Proffer.__table__
    t: Any = PersonTerms.__table__
    b: Any = BrandAcceptance.__table__
    # Columns: kind, slug, version, status (a proffer's: whether it is to every brand),
    # agreed slug and version, created (orders the rows).
    return union_all(
        select(
            literal_column("'a'"),
            a.c.slug,
            a.c.version,
            a.c.status,
            a.c.agreed_slug,
            a.c.agreed_version,
            a.c.created_at,
        ).where(a.c.subject_id == person, a.c.brand_id == brand, a.c.withdrawn_at.is_(None)),
        select(
            literal_column("'p'"),
            p.c.slug,
            p.c.version,
            case((p.c.brand_id.is_(None), "all"), else_="one"),
            null(),
            null(),
            null(),
        ).where(
            p.c.person_id == person,
            p.c.withdrawn_at.is_(None),
            or_(p.c.brand_id.is_(None), p.c.brand_id == brand),
        ),
        select(literal_column("'s'"), null(), null(), null(), null(), null(), null()).where(
            t.c.person_id == person, t.c.only_my_terms == true()
        ),
        select(literal_column("'b'"), b.c.slug, b.c.version, null(), null(), null(), null()).where(
            b.c.brand_id == brand
        ),
    )


# Built once (it runs on every relationship page and per-message check): compiled once and run
# on the cursor (`core.direct`).
_WITH_BRAND = Direct(_with_brand_statement())


def _with_brand(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID) -> WithBrand:
    found = _WITH_BRAND.all(session, person=person_id, brand=brand_id)
    dated = [r for r in found if r[0] == "a"]
    dated.sort(key=lambda r: r[6], reverse=True)
    rows = tuple(LiveRow(r[1], r[2], r[3], r[4], r[5]) for r in dated)
    proffers = [
        _Offered(r[1], r[2], None if r[3] == "all" else brand_id) for r in found if r[0] == "p"
    ]
    only_mine = any(r[0] == "s" for r in found)
    published: set[tuple[str, int]] = set()
    effects_of: dict[tuple[str, int], set[Effect]] = {}
    if rows or proffers:
        published = {(r[1], r[2]) for r in found if r[0] == "b"}
        for key, listed in roster.effects_by_entry(session).items():
            effects_of[key] = set(listed)
    return WithBrand(rows, _apply(list(rows), proffers, only_mine, published, effects_of))


@dataclass(frozen=True)
class _Offered:
    slug: str
    version: int
    brand_id: uuid.UUID | None


def effects_for_many(
    session: Session, people: Sequence[uuid.UUID], brand_id: uuid.UUID
) -> dict[uuid.UUID, Effects]:
    """`effects_for` each of `people` with one brand, read in four statements for the list
    (the per-message gate check of a batch): the rule applied in Python, person by person."""
    ids = list(dict.fromkeys(people))
    if not ids:
        return {}
    rows: dict[uuid.UUID, list[Any]] = {pid: [] for pid in ids}
    for row in session.execute(
        select(
            Agreement.subject_id,
            Agreement.slug,
            Agreement.status,
            Agreement.agreed_slug,
            Agreement.agreed_version,
        ).where(
            among(session, Agreement.subject_id, "terms_people", ids),
            Agreement.brand_id == brand_id,
            Agreement.withdrawn_at.is_(None),
        )
    ):
        rows[row.subject_id].append(row)
    offered: Any
    proffers: dict[uuid.UUID, list[Any]] = {pid: [] for pid in ids}
    for offered in session.execute(
        select(Proffer.person_id, Proffer.slug, Proffer.version, Proffer.brand_id).where(
            among(session, Proffer.person_id, "terms_people", ids),
            Proffer.withdrawn_at.is_(None),
            or_(Proffer.brand_id.is_(None), Proffer.brand_id == brand_id),
        )
    ):
        proffers[offered.person_id].append(offered)
    stance = set(
        session.scalars(
            select(PersonTerms.person_id).where(
                among(session, PersonTerms.person_id, "terms_people", ids),
                PersonTerms.only_my_terms == true(),
            )
        )
    )
    published: set[tuple[str, int]] = set()
    effects_of: dict[tuple[str, int], set[Effect]] = {}
    if any(rows.values()) or any(proffers.values()):
        published = {
            (entry.slug, entry.version)
            for entry in session.execute(
                select(BrandAcceptance.slug, BrandAcceptance.version).where(
                    BrandAcceptance.brand_id == brand_id
                )
            )
        }
        # The roster's effects, as the page's other sections read them (once a request).
        for key, listed in roster.effects_by_entry(session).items():
            effects_of[key] = set(listed)
    return {
        pid: _apply(rows[pid], proffers[pid], pid in stance, published, effects_of) for pid in ids
    }


def _apply(
    rows: list[Any],
    proffers: list[Any],
    only_mine: bool,
    published: set[tuple[str, int]],
    effects_of: dict[tuple[str, int], set[Effect]],
) -> Effects:
    """The rule (module docstring) over one person's rows with one brand."""
    live = {row.slug: row for row in rows}
    accepted = {
        (row.agreed_slug, row.agreed_version)
        for row in rows
        if row.status == Status.accepted and row.agreed_slug is not None
    }
    standing = {
        (p.slug, p.version)
        for p in proffers
        if p.brand_id is None and (p.slug, p.version) in published and p.slug not in live
    }
    in_force: set[tuple[str, int]] = accepted | standing
    effects: set[Effect] = set()
    for key in in_force:
        effects |= effects_of.get(key, set())

    def met(p: Any) -> bool:
        row = live.get(p.slug)
        if row is not None:
            return bool(row.status == Status.accepted)
        return (p.slug, p.version) in standing

    unmet = {(p.slug, p.version) for p in proffers if not met(p)}
    if only_mine and unmet:
        effects.add(Effect.no_marketing)
    return Effects(frozenset(effects), frozenset(in_force), frozenset(unmet))


# The SQL form. `person` and `brand` are column expressions (or bound values) of the enclosing
# statement; every condition is correlated to them and uses the live-row index.
# The aliases are built once (an alias copies every column of its table, which cost more than
# the rest of a statement's construction); each names its own sub-query's FROM, never nested in
# itself, so sharing one object between statements changes no SQL.
_AGREED = Agreement.__table__.alias("terms_agreed")
_AGREED_FX = RosterEffect.__table__.alias("terms_agreed_fx")
_ANY = Agreement.__table__.alias("terms_any")
_PUBLISHED = BrandAcceptance.__table__.alias("terms_published")
_GLOBAL = Proffer.__table__.alias("terms_global")
_GLOBAL_FX = RosterEffect.__table__.alias("terms_fx")
_STANCE = PersonTerms.__table__.alias("terms_stance")
_ASKED = Proffer.__table__.alias("terms_asked")
_MET = Agreement.__table__.alias("terms_met")


def _accepted_with(person: Any, brand: Any, effect: Effect) -> ColumnElement[bool]:
    a, e = _AGREED, _AGREED_FX
    return exists(
        select(a.c.id)
        .join(e, and_(e.c.slug == a.c.agreed_slug, e.c.version == a.c.agreed_version))
        .where(
            a.c.subject_id == person,
            a.c.brand_id == brand,
            a.c.withdrawn_at.is_(None),
            a.c.status == Status.accepted.value,
            e.c.effect == effect.value,
        )
        .correlate_except(a, e)
    )


def _no_live_row_for(person: Any, brand: Any, slug: Any) -> ColumnElement[bool]:
    a = _ANY
    return ~exists(
        select(a.c.id)
        .where(
            a.c.subject_id == person,
            a.c.brand_id == brand,
            a.c.slug == slug,
            a.c.withdrawn_at.is_(None),
        )
        .correlate_except(a)
    )


def published_sql(brand: Any, slug: Any, version: Any) -> ColumnElement[bool]:
    b = _PUBLISHED
    return exists(
        select(b.c.slug)
        .where(b.c.brand_id == brand, b.c.slug == slug, b.c.version == version)
        .correlate_except(b)
    )


def _standing_with(person: Any, brand: Any, effect: Effect) -> ColumnElement[bool]:
    p, e = _GLOBAL, _GLOBAL_FX
    return exists(
        select(p.c.id)
        .join(e, and_(e.c.slug == p.c.slug, e.c.version == p.c.version))
        .where(
            p.c.person_id == person,
            p.c.brand_id.is_(None),
            p.c.withdrawn_at.is_(None),
            e.c.effect == effect.value,
            published_sql(brand, p.c.slug, p.c.version),
            _no_live_row_for(person, brand, p.c.slug),
        )
        .correlate_except(p, e)
    )


def _unmet(person: Any, brand: Any) -> ColumnElement[bool]:
    t, p, a = _STANCE, _ASKED, _MET
    accepted_row = exists(
        select(a.c.id)
        .where(
            a.c.subject_id == person,
            a.c.brand_id == brand,
            a.c.slug == p.c.slug,
            a.c.withdrawn_at.is_(None),
            a.c.status == Status.accepted.value,
        )
        .correlate_except(a)
    )
    standing = and_(
        p.c.brand_id.is_(None),
        published_sql(brand, p.c.slug, p.c.version),
        _no_live_row_for(person, brand, p.c.slug),
    )
    return and_(
        exists(
            select(t.c.person_id)
            .where(t.c.person_id == person, t.c.only_my_terms == true())
            .correlate_except(t)
        ),
        exists(
            select(p.c.id)
            .where(
                p.c.person_id == person,
                p.c.withdrawn_at.is_(None),
                or_(p.c.brand_id.is_(None), p.c.brand_id == brand),
                ~or_(accepted_row, standing),
            )
            .correlate_except(p)
        ),
    )


def holds(effect: Effect, person: Any, brand: Any) -> ColumnElement[bool]:
    """TRUE where `effect` is in force between the person and the brand (never NULL)."""
    if effect is Effect.no_marketing:
        return _unmet(person, brand)
    return or_(_accepted_with(person, brand, effect), _standing_with(person, brand, effect))


def forbids(purpose: str, person: Any, brand: Any) -> ColumnElement[bool]:
    """TRUE where the terms in force forbid a message of `purpose` (the gate's `terms`)."""
    effects = FORBIDDEN_BY.get(purpose, ())
    if not effects:
        return false()
    return or_(*(holds(effect, person, brand) for effect in effects))
