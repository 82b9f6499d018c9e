"""Export and erasure, generic over the schema so that tables added later are covered.

Every table that refers to a person (a `person_id` column, or the ledger's `subject_id`) is
found from the metadata; nothing here lists tables by hand except the secrets left out.
"""

from __future__ import annotations

import base64
import functools
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Table,
    Uuid,
    and_,
    bindparam,
    delete,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from accord.consent import service as consent
from accord.core.auth_models import MagicLink
from accord.core.db import Base, utcnow
from accord.core.direct import Direct
from accord.core.errors import NotFound
from accord.core.settings import Settings
from accord.mail.models import DevMailMessage
from accord.outbox import service as outbox
from accord.people import service as people
from accord.people.models import ContactPoint, ErasedAddress, Person
from accord.relationships import service as relationships
from accord.relationships.service import Actor
from accord.relationships.vocabulary import Source
from accord.sms import service as sms
from accord.terms import service as terms

PERSON_COLUMNS = ("person_id", "subject_id")
# Every domain's tables: the composition root (`accord.models`) imports them all before any
# request or command runs, so tables of domains this module never imports are covered too.
metadata = Base.metadata
# Secrets that prove nothing to the person and must not leave Accord, even to them.
SECRET_COLUMNS = frozenset({"token_hash", "code_hash", "password_hash", "key_hash"})


def _exported(table: Table) -> bool:
    """A domain may keep a table out of the self-service export (`info={"export": False}`):
    a brand's internal notes on a conversation, say. Erasure still takes it."""
    return bool(table.info.get("export", True))


def person_tables() -> Iterator[tuple[Table, str]]:
    """(table, column) for every table that holds rows about a person."""
    for table in metadata.sorted_tables:
        for name in PERSON_COLUMNS:
            if name in table.c:
                yield table, name
                break


def dependent_tables() -> Iterator[tuple[Table, str, Table, str]]:
    """Tables one step further: rows that point at a person's row in another table (a
    customer's transactions), as (table, its column, person table, that table's person column).
    Tables that hold a person column themselves are exported directly instead."""
    direct = dict((t.name, c) for t, c in person_tables())
    for table in metadata.sorted_tables:
        if table.name in direct:
            continue
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent.name in direct and parent.name != "people" and fk.column.name == "id":
                yield table, fk.parent.name, metadata.tables[parent.name], direct[parent.name]
                break


def owned_rows(table: Table, column: str, parent: Table, parent_column: str, person: Any) -> Any:
    """The condition on `table` for the rows that point at the person's rows in `parent`.

    When the foreign key is composite (a transaction names its brand and its customer), each
    of its other columns is matched to the person's rows too: always true of those rows, and it
    lets the database use the key's index, which leads with the other column (without it,
    SQLite read every transaction of every brand to count one person's)."""
    owned = select(parent.c.id).where(parent.c[parent_column] == person)
    condition: Any = table.c[column].in_(owned)
    for fk in table.foreign_keys:
        if fk.parent.name == column and fk.column.table is parent:
            for other in fk.constraint.elements:  # type: ignore[union-attr]
                if other.parent.name != column:
                    mine = select(parent.c[other.column.name]).where(
                        parent.c[parent_column] == person
                    )
                    condition = and_(condition, other.parent.in_(mine))
            break
    return condition


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):  # a file (an attachment): its bytes, base64-encoded
        return base64.b64encode(value).decode("ascii")
    return value


def export(session: Session, person_id: uuid.UUID) -> dict[str, Any]:
    """One JSON document of everything Accord holds about the person."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("No such person.")
    tables: dict[str, list[dict[str, Any]]] = {
        "people": [_row(metadata.tables["people"], person_id, "id", session)[0]]
    }
    for table, column in person_tables():
        if _exported(table):
            tables[table.name] = _row(table, person_id, column, session)
    for table, column, parent, parent_column in dependent_tables():
        if not _exported(table):
            continue
        owned = owned_rows(table, column, parent, parent_column, person_id)
        rows = session.execute(select(table).where(owned)).mappings().all()
        tables[table.name] = [
            {k: _plain(v) for k, v in r.items() if k not in SECRET_COLUMNS} for r in rows
        ]
    return {
        "format": "accord-export/1",
        "exported_at": utcnow().isoformat(),
        "person_id": str(person_id),
        "ledger_events": [
            consent.body_of(e) | {"hash": e.hash} for e in consent.events_for(session, person_id)
        ],
        "tables": tables,
        # Personal terms as the person reads them: each agreement and the effects in force.
        "terms": terms.export_for(session, person_id),
    }


def summary(session: Session, person_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, int]]:
    """The profile and how many rows each exported table holds about the person: what the
    export holds, counted in one statement instead of read row by row."""
    row = _summary_reads()[0].first(session, person=person_id)
    if row is None:
        raise NotFound("No such person.")
    profile = {k: _plain(v) for k, v in row._asdict().items() if k not in SECRET_COLUMNS}
    counts = _summary_reads()[1].all(session, person_id=person_id)
    return profile, {name: rows for name, rows in counts}


@functools.cache
def _summary_reads() -> tuple[Direct, Direct]:
    """The profile's row and the counts, built once and run on the session's cursor
    (`core.direct`): the summary page reads them on every view."""
    people_table = metadata.tables["people"]
    profile = select(people_table).where(people_table.c.id == bindparam("person", type_=Uuid()))
    return Direct(profile), Direct(_counts())


@functools.cache
def _counts() -> CompoundSelect[str, int]:
    """One UNION ALL of a COUNT per exported table, built once (the schema is fixed by the
    time a request runs: the composition root imported every domain's models)."""
    person: BindParameter[uuid.UUID] = bindparam("person_id")
    parts = [
        select(literal(table.name).label("name"), func.count().label("rows"))
        .select_from(table)
        .where(table.c[column] == person)
        for table, column in person_tables()
        if _exported(table)
    ]
    for table, column, parent, parent_column in dependent_tables():
        if _exported(table):
            parts.append(
                select(literal(table.name).label("name"), func.count().label("rows"))
                .select_from(table)
                .where(owned_rows(table, column, parent, parent_column, person))
            )
    return union_all(*parts)


def _row(table: Table, person_id: uuid.UUID, column: str, session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(table).where(table.c[column] == person_id)).mappings().all()
    return [{k: _plain(v) for k, v in row.items() if k not in SECRET_COLUMNS} for row in rows]


def _detached(table: Table) -> bool:
    """Delivery rows stay, the person detached (`outbox.detach_person`): counts stay true."""
    return table.info.get("erasure") == "detach"


def _remember_erased(
    session: Session, settings: Settings, addresses: list[str], brand_id: uuid.UUID | None
) -> None:
    for address in addresses:
        digest = people.address_hash(settings, address)
        exists = session.scalar(
            select(ErasedAddress.id).where(
                ErasedAddress.address_hash == digest,
                ErasedAddress.brand_id.is_(None)
                if brand_id is None
                else ErasedAddress.brand_id == brand_id,
            )
        )
        if exists is None:
            session.add(ErasedAddress(address_hash=digest, brand_id=brand_id))


def _email_addresses(session: Session, person_id: uuid.UUID) -> list[str]:
    return list(
        session.scalars(
            select(ContactPoint.address_normalised).where(
                ContactPoint.person_id == person_id, ContactPoint.channel == "email"
            )
        )
    )


def erase_account(session: Session, settings: Settings, person_id: uuid.UUID) -> None:
    """Delete the profile and everything hanging off it; keep the ledger (no personal data)
    and a keyed hash of each address so no brand can bring it back."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("No such person.")
    addresses = _email_addresses(session, person_id)
    every_address = list(
        session.scalars(select(ContactPoint.address).where(ContactPoint.person_id == person_id))
    )
    consent.append(
        session,
        subject=person_id,
        action="erase",
        source=Source.portal.value,
        value={"scope": "account"},
    )
    _remember_erased(session, settings, addresses, None)
    outbox.detach_person(session, person_id)
    for table, column in person_tables():
        if column == "person_id" and not _detached(table):
            session.execute(delete(table).where(table.c.person_id == person_id))
    session.execute(delete(MagicLink).where(MagicLink.subject_id == person_id))
    for address in [*every_address, person.email]:
        session.execute(delete(DevMailMessage).where(DevMailMessage.recipients == address))
    sms.forget_numbers(session, every_address)
    session.delete(person)
    session.flush()


def erase_for_brand(
    session: Session, settings: Settings, person_id: uuid.UUID, brand_id: uuid.UUID
) -> None:
    """ "End and erase what this brand holds about me": the relationship stays ended, and the
    brand can never re-import the address."""
    rel = relationships.get(session, person_id, brand_id)
    relationships.end(session, rel, Actor(source=Source.portal), erase=True)
    rel.shared = {}
    outbox.detach_person(session, person_id, brand_id)
    for table, column in person_tables():
        if (
            column == "person_id"
            and "brand_id" in table.c
            and table.name != "relationships"
            and not _detached(table)
        ):
            session.execute(
                delete(table).where(table.c.person_id == person_id, table.c.brand_id == brand_id)
            )
    _remember_erased(session, settings, _email_addresses(session, person_id), brand_id)
    consent.append(
        session,
        subject=person_id,
        brand=brand_id,
        action="erase",
        source=Source.portal.value,
        value={"scope": "brand"},
    )
    session.flush()
