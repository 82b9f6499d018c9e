"""Bulk import of consent a brand collected in another system (`accord relationships import`,
`POST /api/v1/consent/imports`).

One row of the file is one decision: an opt-in to a purpose, with its evidence (how and when
it was collected, the IP or the form's URL, and whether the person completed a double opt-in).
Each decision is one ledger event (`import_grant` when the double opt-in was completed,
`import_request` when it was not), and the state it changes is written in the same transaction,
a chunk of rows at a time with a fixed number of set-based statements per chunk. A row without
proof of confirmation waits for the person: a confirmation mail is queued through the outbox.

Importing the same file again writes nothing: a person who already has the grant (confirmed
or waiting) is counted as already imported. A person who manages the relationship in Accord
already and has not granted the purpose, or who ended it, is never overruled by an import:
the row is rejected with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.consent import service as consent
from accord.consent.service import Scope
from accord.core import cycles, pg_bulk, sqlite_bulk
from accord.core.db import among_many, utcnow
from accord.core.security import keyed_hash, new_token, token_hash
from accord.core.settings import Settings
from accord.outbox.models import OutboxMessage
from accord.people import service as people
from accord.people.models import ContactPoint, ErasedAddress, Person
from accord.relationships import emails, service
from accord.relationships.consent_import_rows import ImportRow, parse
from accord.relationships.models import (
    ChannelChoice,
    PendingConsent,
    PurposeGrant,
    Relationship,
    Topic,
    TopicChoice,
)
from accord.relationships.vocabulary import PURPOSE_TEXT, Channel, State

CONFIRM_DAYS = 7
# The empty JSON object of every new row, one object: a bulk write binds it once.
_NOTHING: dict[str, Any] = {}
TOPIC_SLUG = "consent-confirmation"
GRANTED = "import_grant"
REQUESTED = "import_request"


@dataclass
class Report:
    rows: int = 0
    granted: int = 0
    requested: int = 0
    already: int = 0
    rejected: int = 0
    people_created: int = 0
    rejects: list[tuple[int, str]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.granted + self.requested


@dataclass
class _Row:
    line: int
    data: ImportRow
    topic_ids: list[uuid.UUID]
    person_id: uuid.UUID | None = None


Reject = Callable[[int, str, dict[str, str]], None]


class Importer:
    """Imports rows chunk by chunk into one brand, in the caller's transaction."""

    def __init__(self, session: Session, settings: Settings, brand: Brand) -> None:
        self.session = session
        self.settings = settings
        self.brand = brand
        self.key = settings.resolved_secret_key()
        self.report = Report()
        self.seen: dict[tuple[str, str], int] = {}
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.now = utcnow()
        self.topics = {
            t.slug: t
            for t in session.scalars(select(Topic).where(Topic.brand_id == brand.id))
            if t.slug != TOPIC_SLUG
        }
        self._confirm_topic: uuid.UUID | None = None
        self.verified: set[str] = set()  # the chunk's new people's addresses stored verified
        self.created: set[uuid.UUID] = set()  # the people the chunk created
        self.heads: consent.Heads = {}
        # The chunk's relationships and grants as `_decide` read them (under the heads' locks).
        self.rels: dict[uuid.UUID, str] = {}
        self.grants: dict[tuple[uuid.UUID, str], str] = {}

    # --- reading ---------------------------------------------------------------------------

    def _check(self, line: int, raw: dict[str, str]) -> _Row | str:
        parsed = parse(line, raw)
        if isinstance(parsed, str):
            return parsed
        topic_ids = []
        for slug in parsed.topics:
            topic = self.topics.get(slug)
            if topic is None:
                return f"topics: the brand has no topic '{slug}'"
            if topic.purpose != parsed.purpose.value:
                return f"topics: '{slug}' is for {topic.purpose}, not {parsed.purpose.value}"
            if topic.retired_at is not None:
                return f"topics: '{slug}' is retired"
            topic_ids.append(topic.id)
        key = (parsed.email, parsed.purpose.value)
        if key in self.seen:
            return f"email: the same address and purpose are on line {self.seen[key]}"
        self.seen[key] = line
        return _Row(line, parsed, topic_ids)

    def chunk(self, rows: Iterable[tuple[int, dict[str, str]]], reject: Reject) -> None:
        """Check a chunk of (line, row) and import the good rows with set-based writes."""
        good: list[_Row] = []
        for line, raw in rows:
            self.report.rows += 1
            checked = self._check(line, raw)
            if isinstance(checked, str):
                self._reject(line, checked, raw, reject)
            else:
                good.append(checked)
        if good:
            self._write(good, reject)

    def _reject(self, line: int, reason: str, raw: dict[str, str], reject: Reject) -> None:
        self.report.rejected += 1
        self.report.rejects.append((line, reason))
        reject(line, reason, raw)

    # --- writing ---------------------------------------------------------------------------

    def _insert(
        self, model: Any, rows: list[dict[str, Any]], *, new: bool = False, shared: bool = False
    ) -> None:
        """INSERT … ON CONFLICT DO NOTHING of `rows`; `new`: none of them can exist yet;
        `shared`: another person's row may hold a unique value of theirs.
        PostgreSQL: a statement or two (`pg_bulk`); SQLite: one executemany (`sqlite_bulk`)."""
        if not rows:
            return
        if self.postgres:
            # The rows of people this chunk created are new as well, unless `shared`: no one
            # else can refer to a person before this transaction commits. They go by COPY, the
            # others (of people stored before) by INSERT … ON CONFLICT DO NOTHING.
            created = set() if shared else self.created
            fresh = rows if new else [r for r in rows if r["person_id"] in created]
            table = model.__table__
            pg_bulk.copy(self.session, table, fresh)
            if len(fresh) < len(rows):
                pg_bulk.insert_missing(
                    self.session, table, [r for r in rows if r["person_id"] not in created]
                )
            return
        sqlite_bulk.insert(self.session, model.__table__, rows, ignore=True)

    def _people(self, rows: list[_Row], reject: Reject) -> list[_Row]:
        """Find or create every row's person (one query, one insert each for people and their
        e-mail contact points); rows of erased addresses are rejected."""
        emails_ = sorted({r.data.email for r in rows})
        hashes = {people.address_hash(self.settings, e): e for e in emails_}
        erased = set(
            self.session.scalars(
                select(ErasedAddress.address_hash).where(
                    among_many(self.session, ErasedAddress.address_hash, "hashes", list(hashes)),
                    (ErasedAddress.brand_id.is_(None)) | (ErasedAddress.brand_id == self.brand.id),
                )
            )
        )
        erased_emails = {hashes[h] for h in erased}
        known = {
            email: pid
            for email, pid in self.session.execute(
                select(Person.email, Person.id).where(
                    among_many(self.session, Person.email, "emails", emails_)
                )
            )
        }
        new_people = [e for e in emails_ if e not in known and e not in erased_emails]
        created = {e: uuid.uuid4() for e in new_people}
        self.created = set(created.values())
        # New: looked up just now. A person another writer stores meanwhile fails the import,
        # as it did when their contact point then missed its person.
        self._insert(
            Person,
            [
                {"id": pid, "email": e, "display_name": "", "time_zone": "UTC", "locale": "en",
                 "created_at": self.now}
                for e, pid in created.items()
            ],
            new=True,
        )  # fmt: skip
        # A new person's address is proved by a completed double opt-in of theirs: stored
        # verified at once rather than updated after (`_grants`). An address some other
        # person's contact point holds already gets no contact point here, as the conflict
        # skipped it before, and stays for `_grants` to verify.
        taken = self._taken(new_people)
        proved = {
            r.data.email for r in rows if r.data.double_opt_in and Channel.email in r.data.channels
        }
        self.verified = {e for e in proved if e in created and e not in taken}
        self._insert(
            ContactPoint,
            [
                {"id": uuid.uuid4(), "person_id": pid, "channel": "email", "address": e,
                 "address_normalised": e, "is_primary": True, "details": _NOTHING,
                 "code_attempts": 0, "created_at": self.now,
                 "verified_at": self.now if e in self.verified else None}
                for e, pid in created.items() if e not in taken
            ],
            shared=True,  # the address: someone may add it to their profile meanwhile
        )  # fmt: skip
        self.report.people_created += len(created)
        known.update(created)
        kept = []
        for r in rows:
            if r.data.email in erased_emails:
                reason = "email: this address was erased at the person's request (erased)"
                self._reject(r.line, reason, r.data.model_dump(mode="json"), reject)
            else:
                r.person_id = known[r.data.email]
                kept.append(r)
        return kept

    def _taken(self, addresses: list[str]) -> set[str]:
        """Those of `addresses` that an e-mail contact point holds already."""
        if not addresses:
            return set()
        if self.postgres:
            return pg_bulk.stored(
                self.session,
                ContactPoint.__table__,  # type: ignore[arg-type]
                "address_normalised",
                addresses,
                channel="email",
            )
        return set(
            self.session.scalars(
                select(ContactPoint.address_normalised).where(
                    ContactPoint.channel == "email",
                    among_many(
                        self.session, ContactPoint.address_normalised, "addresses", addresses
                    ),
                )
            )
        )

    def _state(
        self, person_ids: list[uuid.UUID]
    ) -> tuple[dict[uuid.UUID, str], dict[tuple[uuid.UUID, str], str]]:
        """The brand's relationships and purpose grants of these people (two queries)."""
        b = self.brand.id
        rels = {
            p: state
            for p, state in self.session.execute(
                select(Relationship.person_id, Relationship.state).where(
                    Relationship.brand_id == b,
                    among_many(self.session, Relationship.person_id, "people", person_ids),
                )
            )
        }
        grants = {
            (p, purpose): status
            for p, purpose, status in self.session.execute(
                select(PurposeGrant.person_id, PurposeGrant.purpose, PurposeGrant.status).where(
                    PurposeGrant.brand_id == b,
                    among_many(self.session, PurposeGrant.person_id, "people", person_ids),
                )
            )
        }
        return rels, grants

    def _decide(self, rows: list[_Row], reject: Reject) -> list[_Row]:
        """The rows that change something; the others are counted or rejected."""
        person_ids = _people_of(rows)
        if not person_ids:
            return []
        # The people's ledger heads locked before their state is read, as every decision does.
        self.heads = consent.hold_many(self.session, person_ids)
        rels, grants = self.rels, self.grants = self._state(person_ids)
        todo = []
        for r in rows:
            assert r.person_id is not None
            state = rels.get(r.person_id)
            grant = grants.get((r.person_id, r.data.purpose.value))
            if grant == "granted" or (grant == "pending" and not r.data.double_opt_in):
                self.report.already += 1
            elif state == State.ended:
                reason = "email: the person ended their relationship with the brand"
                self._reject(r.line, reason, r.data.model_dump(mode="json"), reject)
            elif state in (State.active, State.paused) and grant is None:
                reason = (
                    f"email: the person manages this relationship in Accord and has not granted "
                    f"{r.data.purpose.value}; ask them there"
                )
                self._reject(r.line, reason, r.data.model_dump(mode="json"), reject)
            else:
                todo.append(r)
        return todo

    def _write(self, rows: list[_Row], reject: Reject) -> None:
        rows = self._people(rows, reject)
        rows = self._decide(rows, reject)
        if not rows:
            return
        b = self.brand.id
        person_ids = _people_of(rows)
        entries = [self._entry(r) for r in rows]
        consent.append_many(self.session, entries, self.heads)  # heads held by _decide
        rels = self.rels
        self._insert(
            Relationship,
            [
                {"id": uuid.uuid4(), "person_id": p, "brand_id": b, "state": State.active.value,
                 "origin": "import", "brand_cap": 3, "shared": _NOTHING, "created_at": self.now,
                 "updated_at": self.now}
                for p in person_ids if p not in rels
            ],
        )  # fmt: skip
        invited = [p for p in person_ids if rels.get(p) == State.invited]
        if invited:
            self.session.execute(
                update(Relationship)
                .where(
                    Relationship.brand_id == b,
                    among_many(self.session, Relationship.person_id, "people", invited),
                )
                .values(state=State.active.value, updated_at=self.now)
            )
        self._insert(
            ChannelChoice,
            [
                {"person_id": p, "brand_id": b, "purpose": "transactional", "channel": "email"}
                for p in person_ids
                if rels.get(p) in (None, State.invited)
            ],
        )
        self._grants(rows)
        self._confirmations([r for r in rows if not r.data.double_opt_in])

    def _entry(self, r: _Row) -> consent.Entry:
        d = r.data
        evidence = {"method": d.source, "collected_at": consent.timestamp(d.collected_at)}
        if d.ip.strip():
            evidence["ip"] = keyed_hash(self.key, d.ip.strip(), purpose="evidence")
        if d.form_url is not None:
            evidence["form_url"] = keyed_hash(self.key, str(d.form_url), purpose="evidence")
        if d.double_opt_in:
            evidence["confirmed_at"] = consent.timestamp(d.confirmed_at or d.collected_at)
        assert r.person_id is not None
        return consent.Entry(
            subject=r.person_id,
            action=GRANTED if d.double_opt_in else REQUESTED,
            source="import",
            at=self.now,
            brand=self.brand.id,
            scope=Scope(purpose=d.purpose.value),
            policy=d.notice_version,
            evidence=evidence,
            value={
                "channels": sorted({c.value for c in d.channels}),
                "topics": sorted(str(t) for t in r.topic_ids),
            },
        )

    def _grants(self, rows: list[_Row]) -> None:
        b = self.brand.id
        confirmed = [r for r in rows if r.data.double_opt_in]
        pending = [r for r in rows if not r.data.double_opt_in]
        self.report.granted += len(confirmed)
        self.report.requested += len(pending)
        self._insert(
            PurposeGrant,
            [
                {"person_id": r.person_id, "brand_id": b, "purpose": r.data.purpose.value,
                 "status": "granted" if r.data.double_opt_in else "pending",
                 "updated_at": self.now}
                for r in rows
            ],
        )  # fmt: skip
        # A grant stored before (waiting for confirmation, say) that the file shows confirmed;
        # the grants inserted above are granted already.
        upgraded = [r for r in confirmed if (r.person_id, r.data.purpose.value) in self.grants]
        if upgraded:
            for purpose in {r.data.purpose.value for r in upgraded}:
                ids = [r.person_id for r in upgraded if r.data.purpose.value == purpose]
                self.session.execute(
                    update(PurposeGrant)
                    .where(
                        PurposeGrant.brand_id == b,
                        PurposeGrant.purpose == purpose,
                        among_many(self.session, PurposeGrant.person_id, "people", ids),
                    )
                    .values(status="granted", updated_at=self.now)
                )
        self._insert(
            ChannelChoice,
            [
                {"person_id": r.person_id, "brand_id": b, "purpose": r.data.purpose.value,
                 "channel": c.value}
                for r in confirmed for c in set(r.data.channels)
            ],
        )  # fmt: skip
        self._insert(
            TopicChoice,
            [
                {"person_id": r.person_id, "brand_id": b, "topic_id": t}
                for r in confirmed
                for t in r.topic_ids
            ],
        )
        # A completed double opt-in proved the address (a new person's is stored verified).
        addresses = sorted(
            {r.data.email for r in confirmed if Channel.email in r.data.channels} - self.verified
        )
        if addresses:
            self.session.execute(
                update(ContactPoint)
                .where(
                    ContactPoint.channel == "email",
                    among_many(
                        self.session, ContactPoint.address_normalised, "addresses", addresses
                    ),
                    ContactPoint.verified_at.is_(None),
                )
                .values(verified_at=self.now)
            )

    def confirm_topic(self) -> uuid.UUID:
        if self._confirm_topic is None:
            self._confirm_topic = service.system_topic(
                self.session,
                self.brand.id,
                slug=TOPIC_SLUG,
                name="Confirming your consent",
                description="The e-mail that asks you to confirm consent the brand recorded.",
            )
        return self._confirm_topic

    def _confirmations(self, rows: list[_Row]) -> None:
        """A pending consent and a confirmation mail (queued in the outbox) per row."""
        if not rows:
            return
        b = self.brand.id
        topic_id = self.confirm_topic()
        pending: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        expires = self.now + timedelta(days=CONFIRM_DAYS)
        for r in rows:
            token = new_token()
            d = r.data
            pending.append(
                {
                    "id": uuid.uuid4(),
                    "person_id": r.person_id,
                    "brand_id": b,
                    "token_hash": token_hash(token),
                    "grant": {
                        "purpose": d.purpose.value,
                        "channels": sorted({c.value for c in d.channels}),
                        "topics": [str(t) for t in r.topic_ids],
                        "policy": d.notice_version,
                    },
                    "expires_at": expires,
                    "created_at": self.now,
                }
            )
            mail = emails.confirm_consent(
                to=d.email,
                brand=self.brand,
                url=f"{self.settings.base_url}/consent/confirm?token={token}",
                what=PURPOSE_TEXT[d.purpose],
            )
            assert r.person_id is not None
            messages.append(
                {
                    "brand_id": b,
                    "person_id": r.person_id,
                    "topic_id": topic_id,
                    "channel": "email",
                    "purpose": "transactional",
                    "idempotency_key": f"import:{b.hex}:{r.person_id.hex}:{d.purpose.value}",
                    "state": "queued",
                    "not_before": self.now,
                    "attempts": 0,
                    # The one message that may go to an address not yet confirmed: it asks
                    # for the confirmation (the delivery worker reads `confirms_address`).
                    "payload": {
                        "subject": literal(mail.subject),
                        "text": literal(mail.text),
                        "html": None,
                        "confirms_address": True,
                    },
                    "created_at": self.now,
                }
            )
        self._insert(PendingConsent, pending, new=True)  # fresh ids and tokens
        self._insert(OutboxMessage, messages)


def _people_of(rows: list[_Row]) -> list[uuid.UUID]:
    """The rows' people in id order (sorted on the ids' integers: comparing UUIDs calls
    Python code, thousands of times a chunk)."""
    return sorted({r.person_id for r in rows if r.person_id is not None}, key=_INT)


_INT = attrgetter("int")


def literal(text: str) -> str:
    """Text the outbox's templates output as it is (a `{` never starts a template)."""
    return text.replace("{", "{{ '{' }}")


def run(
    session: Session,
    settings: Settings,
    brand: Brand,
    rows: Iterator[tuple[int, dict[str, str]]],
    *,
    chunk: int = 2000,
    reject: Reject | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Import every (line, row) in chunks; the caller commits."""
    importer = Importer(session, settings, brand)
    batch: list[tuple[int, dict[str, str]]] = []
    with cycles.uncollected(), sqlite_bulk.roomy_cache(session):
        for item in rows:
            batch.append(item)
            if len(batch) >= chunk:
                importer.chunk(batch, reject or _ignore)
                batch = []
                if progress is not None:
                    progress(importer.report.rows)
        if batch:
            importer.chunk(batch, reject or _ignore)
        if progress is not None:
            progress(importer.report.rows)
        session.flush()
    return importer.report


def _ignore(line: int, reason: str, raw: dict[str, str]) -> None:
    return None
