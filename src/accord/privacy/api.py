"""A person's export and erasure through the API."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status

from accord.core.web import sign_in
from accord.core.web.deps import SessionDep, SettingsDep
from accord.people.deps import PersonDep
from accord.privacy import service
from accord.relationships.service import receipt_for

router = APIRouter(prefix="/me", tags=["my data"])


def full_export(session: SessionDep, request: Request, person_id: uuid.UUID) -> dict[str, Any]:
    from accord.consent import service as consent

    document = service.export(session, person_id)
    document["receipts"] = [
        receipt_for(session, request, event) for event in consent.events_for(session, person_id)
    ]
    return document


@router.get("/export")
def export(person: PersonDep, session: SessionDep, request: Request) -> dict[str, Any]:
    """Everything Accord holds about you, in one JSON document, with every receipt."""
    return full_export(session, request, person.person_id)


@router.post("/relationships/{brand_id}/erase", status_code=status.HTTP_204_NO_CONTENT)
def erase_for_brand(
    brand_id: uuid.UUID, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """End the relationship and erase what this brand holds about you; the brand can never
    bring your address back."""
    service.erase_for_brand(session, settings, person.person_id, brand_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def erase_account(
    person: PersonDep, session: SessionDep, settings: SettingsDep, request: Request
) -> Response:
    """Delete your account. The ledger keeps the proof of your decisions, without your data."""
    service.erase_account(session, settings, person.person_id)
    sign_in.end_all(session, kind=sign_in.PERSON, subject_id=person.person_id)
    request.session.clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
