"""The person's side of texts, on their page for a brand: whether the brand may text them
marketing, from which numbers, and one button that stops it, as easily as replying STOP."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.consent.service import Scope
from accord.core.direct import Direct
from accord.core.errors import NotFound
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.templates import flash
from accord.people.deps import PersonDep
from accord.people.models import ContactPoint
from accord.relationships import service as relationships
from accord.relationships.vocabulary import Channel, Purpose, Source, State
from accord.sms import numbers

router = APIRouter(
    tags=["portal pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)
SMS_MARKETING = Scope(purpose=Purpose.marketing.value, channel=Channel.sms.value)
OPEN = (State.active.value, State.paused.value)


# The person's verified phone numbers, in their contact points' order (primary first), read
# as the one column shown on the cursor (`core.direct`), not as the contact points' ORM rows.
_PHONES = Direct(
    select(ContactPoint.address)
    .where(
        ContactPoint.person_id == bindparam("person", type_=Uuid()),
        ContactPoint.channel == Channel.sms.value,
        ContactPoint.verified_at.is_not(None),
    )
    .order_by(ContactPoint.is_primary.desc(), ContactPoint.created_at)
)


def panel(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None) -> dict[str, Any]:
    """The relationship page's "Texts" section; nothing to show without an open relationship."""
    if brand_id is None or relationships.state_of(session, person_id, brand_id) not in OPEN:
        return {"show": False}
    chosen = relationships.choices(session, person_id, brand_id)
    return {
        "show": True,
        "brand_id": brand_id,
        "texts_on": Channel.sms.value in chosen.channels.get(Purpose.marketing.value, []),
        "phones": [row.address for row in _PHONES.all(session, person=person_id)],
        "from_numbers": numbers.numbers_of(session, brand_id),
    }


@router.post("/relationships/{brand_id}/texts/stop")
def stop_texts(
    brand_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> RedirectResponse:
    """One press, like replying STOP: SMS marketing from this brand is withdrawn at once (a
    ledger event, source `portal`). Transactional texts, such as order updates, still come."""
    name = brands.get_brand(session, brand_id).name
    try:
        changed = relationships.withdraw(
            session, person.person_id, brand_id, SMS_MARKETING, Source.portal
        )
    except NotFound:
        raise NotFound(f"You have no relationship with {name}.", field="brand_id") from None
    if changed:
        flash(request, f"{name} will send you no more marketing texts.", "success")
    else:
        flash(request, f"{name} was not texting you marketing: nothing changed.")
    return RedirectResponse(f"/relationships/{brand_id}#texts-h", status_code=303)
