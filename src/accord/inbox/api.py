"""The inbox through the API: the signed-in person's (`/me/inbox`), a brand's own app showing
one person's part of it with a person-scoped token (`/inbox`), and the brand's read rates."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Security
from fastapi.security import HTTPBearer

from accord.brands.deps import BrandDep
from accord.core.errors import NotAuthenticated
from accord.core.pagination import Page
from accord.core.permissions import Permission
from accord.core.validation import Line
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.params import CursorParam
from accord.inbox import service
from accord.inbox.schemas import ItemChange, ItemOut, ReadRateOut, TokenIn, TokenOut, UnreadOut
from accord.people.deps import PersonDep

router = APIRouter(tags=["in-app inbox"])
Show = Annotated[Line, Query(pattern="^(unread|all|archived)$")]
Limit = Annotated[int, Query(ge=1, le=200)]


# The signed-in person (session cookie).


@router.get("/me/inbox", response_model=Page[ItemOut])
def my_inbox(
    person: PersonDep,
    session: SessionDep,
    show: Show = "all",
    cursor: CursorParam = None,
    limit: Limit = 50,
) -> Page[ItemOut]:
    rows, next_cursor = service.items(
        session, person.person_id, show=show, cursor=cursor, limit=limit
    )
    return Page[ItemOut](items=[ItemOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/me/inbox/unread-count", response_model=UnreadOut)
def my_unread(person: PersonDep, session: SessionDep) -> UnreadOut:
    return UnreadOut(unread=service.unread_count(session, person.person_id))


@router.patch("/me/inbox/{item_id}", response_model=ItemOut)
def change_mine(
    item_id: uuid.UUID, data: ItemChange, person: PersonDep, session: SessionDep
) -> ItemOut:
    """Mark read (`{"read": true}`) or unread, archive (`{"archived": true}`) or bring back."""
    item = service.mark(session, person.person_id, item_id, read=data.read, archived=data.archived)
    return ItemOut.model_validate(item)


# A brand's own app: its backend asks for a token (API key), its front end uses it.


@router.post("/inbox-tokens", response_model=TokenOut, status_code=201)
def issue_token(
    data: TokenIn, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> TokenOut:
    """A token that lets your app show one related person their inbox at your brand (your
    messages only) for `minutes`. Send it as `Authorization: Bearer <token>` to `/inbox`."""
    caller.require(Permission.send_campaigns)
    token, expires = service.issue_token(
        session, settings, caller.brand_id, data.person_id, data.minutes
    )
    return TokenOut(token=token, expires_at=expires)


INBOX_TOKEN = HTTPBearer(
    auto_error=False,
    scheme_name="InboxToken",
    description="A person-scoped inbox token: `Authorization: Bearer <token>`.",
)


def inbox_holder(
    request: Request,
    settings: SettingsDep,
    _token: Annotated[object, Security(INBOX_TOKEN)],
) -> tuple[uuid.UUID, uuid.UUID]:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Send the inbox token as Authorization: Bearer <token>.")
    return service.read_token(settings, token.strip())


Holder = Annotated[tuple[uuid.UUID, uuid.UUID], Depends(inbox_holder)]


@router.get("/inbox", response_model=Page[ItemOut])
def app_inbox(
    holder: Holder,
    session: SessionDep,
    show: Show = "all",
    cursor: CursorParam = None,
    limit: Limit = 50,
) -> Page[ItemOut]:
    brand_id, person_id = holder
    rows, next_cursor = service.items(
        session, person_id, brand_id=brand_id, show=show, cursor=cursor, limit=limit
    )
    return Page[ItemOut](items=[ItemOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/inbox/unread-count", response_model=UnreadOut)
def app_unread(holder: Holder, session: SessionDep) -> UnreadOut:
    brand_id, person_id = holder
    return UnreadOut(unread=service.unread_count(session, person_id, brand_id))


@router.patch("/inbox/{item_id}", response_model=ItemOut)
def app_change(
    item_id: uuid.UUID, data: ItemChange, holder: Holder, session: SessionDep
) -> ItemOut:
    brand_id, person_id = holder
    item = service.mark(
        session, person_id, item_id, read=data.read, archived=data.archived, brand_id=brand_id
    )
    return ItemOut.model_validate(item)


@router.get("/inbox-read-rates", response_model=list[ReadRateOut])
def read_rates(
    caller: BrandDep, session: SessionDep, campaign_id: uuid.UUID | None = None
) -> list[ReadRateOut]:
    """Per campaign: in-app messages delivered, read (opened in the portal or your app),
    archived, and the read rate."""
    caller.require(Permission.read_brand)
    return [
        ReadRateOut(
            campaign_id=r.campaign_id,
            delivered=r.delivered,
            read=r.read,
            archived=r.archived,
            read_rate=round(r.rate, 4),
        )
        for r in service.read_rates(session, caller.brand_id, campaign_id)
    ]
