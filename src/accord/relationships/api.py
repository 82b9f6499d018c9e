"""Brand API for consent: topics, people's effective preferences, recorded consent,
invitations, the consent change feed and receipts."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request, UploadFile, status
from pydantic import ValidationError
from sqlalchemy import select

from accord.brands import service as brands
from accord.brands.deps import BRAND_SCOPED, BrandDep
from accord.consent import service as consent
from accord.consent.models import LedgerEvent
from accord.core import csv_input
from accord.core.error_text import field_path, sentence
from accord.core.errors import InvalidInput, NotFound
from accord.core.pagination import Page
from accord.core.permissions import Permission
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.params import CursorParam, RowId
from accord.relationships import brand_records, consent_import, consent_import_rows, service
from accord.relationships.receipts_view import receipt_for
from accord.relationships.schemas import (
    BrandPreferences,
    ConsentRecord,
    ImportBatch,
    ImportReject,
    ImportResult,
    Invite,
    InviteResult,
    LedgerEventOut,
    RecordResult,
    TopicCreate,
    TopicOut,
    TopicUpdate,
)

router = APIRouter(tags=["consent", BRAND_SCOPED])
MAX_CSV_ROWS = 5000


@router.get("/topics", response_model=Page[TopicOut])
def list_topics(
    caller: BrandDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> Page[TopicOut]:
    caller.require(Permission.read_brand)
    rows, next_cursor = service.list_topics(session, caller.brand_id, cursor=cursor, limit=limit)
    return Page(items=[TopicOut.model_validate(t) for t in rows], next_cursor=next_cursor)


@router.post("/topics", response_model=TopicOut, status_code=status.HTTP_201_CREATED)
def create_topic(data: TopicCreate, caller: BrandDep, session: SessionDep) -> TopicOut:
    """Create a topic. People see its name, description and purpose; it is off until chosen."""
    caller.require(Permission.manage_topics)
    return TopicOut.model_validate(service.create_topic(session, caller.brand_id, data))


@router.get("/topics/{topic_id}", response_model=TopicOut)
def read_topic(topic_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> TopicOut:
    caller.require(Permission.read_brand)
    return TopicOut.model_validate(service.brand_topic(session, caller.brand_id, topic_id))


@router.patch("/topics/{topic_id}", response_model=TopicOut)
def update_topic(
    topic_id: uuid.UUID, data: TopicUpdate, caller: BrandDep, session: SessionDep
) -> TopicOut:
    caller.require(Permission.manage_topics)
    return TopicOut.model_validate(service.update_topic(session, caller.brand_id, topic_id, data))


@router.post("/topics/{topic_id}/retire", response_model=TopicOut)
def retire_topic(topic_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> TopicOut:
    """Retire a topic: no new choices, no campaigns; nobody's choices change."""
    caller.require(Permission.manage_topics)
    return TopicOut.model_validate(service.retire_topic(session, caller.brand_id, topic_id))


@router.get("/people/{person_id}/preferences", response_model=BrandPreferences)
def person_preferences(
    person_id: uuid.UUID, caller: BrandDep, session: SessionDep
) -> BrandPreferences:
    """A related person's effective preferences for your brand (404 for anyone else)."""
    caller.require(Permission.read_people)
    return service.for_brand(session, caller.brand_id, person_id)


@router.post("/consent/records", response_model=RecordResult, status_code=status.HTTP_201_CREATED)
def record_consent(
    data: ConsentRecord,
    request: Request,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
) -> RecordResult:
    """Record consent you collected yourself, with its evidence. Marketing takes effect only
    once the person confirms the e-mail Accord sends them (double opt-in)."""
    caller.require(Permission.record_consent)
    brand = brands.get_brand(session, caller.brand_id)
    person, state = brand_records.record_consent(
        session, settings, request.app.state.mailer, brand, data
    )
    return RecordResult(person_id=person.id, status=state)


def _import_result(report: consent_import.Report) -> ImportResult:
    return ImportResult(
        rows=report.rows,
        granted=report.granted,
        requested=report.requested,
        already=report.already,
        rejected=report.rejected,
        rejects=[ImportReject(line=line, reason=reason) for line, reason in report.rejects],
    )


@router.post("/consent/imports", response_model=ImportResult)
def import_consent(
    data: ImportBatch, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> ImportResult:
    """Import opt-ins collected in another system, with their evidence (at most 5,000 per
    call). Rows with a completed double opt-in take effect now; the others get a confirmation
    e-mail through the outbox and wait for it. Bad rows are listed (line = position, from 1)
    and the others imported; sending the same rows again writes nothing."""
    caller.require(Permission.record_consent)
    brand = brands.get_brand(session, caller.brand_id)
    rows = ((n, item.model_dump()) for n, item in enumerate(data.rows, start=1))
    return _import_result(consent_import.run(session, settings, brand, rows))


@router.post("/consent/imports/csv", response_model=ImportResult)
async def import_consent_csv(
    file: UploadFile, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> ImportResult:
    """The same from a CSV file (the columns of `accord relationships import`; at most 5,000
    rows): rejects name their line in the file."""
    caller.require(Permission.record_consent)
    header, rows = csv_input.dict_rows(await file.read())
    missing = [c for c in consent_import_rows.REQUIRED if c not in header]
    if missing:
        raise InvalidInput(f"The CSV has no column {', '.join(missing)}.", field="file")
    items = list(enumerate(rows, start=2))
    if len(items) > MAX_CSV_ROWS:
        raise InvalidInput(f"At most {MAX_CSV_ROWS} rows per file.", field="file")
    brand = brands.get_brand(session, caller.brand_id)
    return _import_result(consent_import.run(session, settings, brand, iter(items)))


@router.post("/invitations", response_model=InviteResult, status_code=status.HTTP_201_CREATED)
def invite(
    data: Invite, request: Request, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> InviteResult:
    """Invite a known customer by e-mail; they get one invitation and nothing else until they
    accept."""
    caller.require(Permission.record_consent)
    brand = brands.get_brand(session, caller.brand_id)
    person, rel = brand_records.invite(session, settings, request.app.state.mailer, brand, data)
    return InviteResult(person_id=person.id, state=rel.state)


@router.post(
    "/invitations/csv", response_model=list[InviteResult], status_code=status.HTTP_201_CREATED
)
async def invite_csv(
    file: UploadFile, request: Request, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> list[InviteResult]:
    """Invite from a CSV with an `email` column (and optionally `display_name`). All rows are
    checked first; one bad row refuses the whole file, naming its line."""
    caller.require(Permission.record_consent)
    header, rows = csv_input.dict_rows(await file.read())
    if "email" not in header:
        raise InvalidInput("The CSV needs a header row with an 'email' column.", field="file")
    invites: list[Invite] = []
    for line, row in enumerate(rows, start=2):
        if line - 1 > MAX_CSV_ROWS:
            raise InvalidInput(f"At most {MAX_CSV_ROWS} rows per file.", field="file")
        try:
            invites.append(
                Invite(email=row.get("email", ""), display_name=row.get("display_name", ""))
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            column = field_path(first["loc"])
            raise InvalidInput(f"Line {line}, {column}: {sentence(first)}", field="file") from None
    brand = brands.get_brand(session, caller.brand_id)
    mailer = request.app.state.mailer
    results = []
    for item in invites:
        person, rel = brand_records.invite(session, settings, mailer, brand, item)
        results.append(InviteResult(person_id=person.id, state=rel.state))
    return results


@router.get("/consent/events", response_model=Page[LedgerEventOut])
def consent_events(
    caller: BrandDep,
    session: SessionDep,
    cursor: CursorParam = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> Page[LedgerEventOut]:
    """Your brand's consent decisions, oldest first, so your systems can follow along: keep
    the last next_cursor and ask again later."""
    caller.require(Permission.read_people)
    rows, next_cursor = consent.feed_page(session, caller.brand_id, cursor, limit)
    items = [
        LedgerEventOut(
            id=e.id, person_id=e.subject_id, seq=e.seq, hash=e.hash, action=e.action,
            occurred_at=e.occurred_at, event=consent.body_of(e),
        )
        for e in rows
    ]  # fmt: skip
    return Page(items=items, next_cursor=next_cursor)


@router.get("/consent/events/{event_id}/receipt")
def brand_receipt(
    event_id: RowId, caller: BrandDep, session: SessionDep, request: Request
) -> dict[str, object]:
    """The signed receipt of one of your brand's consent events."""
    caller.require(Permission.read_people)
    event = session.scalars(
        select(LedgerEvent).where(
            LedgerEvent.id == event_id, LedgerEvent.brand_id == caller.brand_id
        )
    ).one_or_none()
    if event is None:
        raise NotFound("No such consent event.")
    return receipt_for(session, request, event)
