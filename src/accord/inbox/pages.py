"""The person's inbox in the portal: unread, all or archived; open (marks read), mark unread,
archive, bring back, mark all read. Every action is a form: no JavaScript needed."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accord.brands.deps import BrandDep
from accord.core.permissions import Permission
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep
from accord.core.web.forms import read_form
from accord.core.web.templates import flash, render
from accord.inbox import service
from accord.people.deps import PersonDep

router = APIRouter(
    tags=["inbox pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)
TABS = {service.UNREAD: "Unread", service.ALL: "All", service.ARCHIVED: "Archived"}
# action → (read, archived): None leaves it as it is.
ACTIONS: dict[str, tuple[bool | None, bool | None]] = {
    "read": (True, None),
    "unread": (False, None),
    "archive": (None, True),
    "unarchive": (None, False),
}


@router.get("/inbox", response_class=HTMLResponse)
def inbox(
    request: Request,
    person: PersonDep,
    session: SessionDep,
    show: str = service.ALL,
    cursor: str | None = None,
) -> HTMLResponse:
    show = show if show in TABS else service.ALL
    rows, next_cursor = service.items(session, person.person_id, show=show, cursor=cursor)
    return render(
        request,
        "inbox/inbox.html",
        {
            "items": rows,
            "next_cursor": next_cursor,
            "show": show,
            "tabs": TABS,
            "brands": service.brand_names(session, {r.brand_id for r in rows}),
        },
    )


@router.get("/inbox/{item_id}", response_class=HTMLResponse)
def item_page(
    item_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> HTMLResponse:
    """Opening a message marks it read (the first time only)."""
    item = service.mark(session, person.person_id, item_id, read=True)
    brand = service.brand_names(session, {item.brand_id}).get(item.brand_id, "")
    # Committed before the page is drawn: its header counts the unread in a session of its own.
    session.commit()
    return render(request, "inbox/item.html", {"item": item, "brand": brand})


@router.post("/inbox/read-all")
def read_all(request: Request, person: PersonDep, session: SessionDep) -> Response:
    n = service.mark_all_read(session, person.person_id)
    flash(request, f"{n} message(s) marked read." if n else "Nothing was unread.", "success")
    return RedirectResponse("/inbox", status_code=303)


@router.post("/inbox/{item_id}/{action}")
async def act(
    item_id: uuid.UUID, action: str, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    back = (await read_form(request, ["show"])).get("show") or service.ALL
    change = ACTIONS.get(action)
    if change is None:
        flash(request, "That is not something a message can do.", "error")
    else:
        read, archived = change
        service.mark(session, person.person_id, item_id, read=read, archived=archived)
    return RedirectResponse(f"/inbox?show={back if back in TABS else service.ALL}", 303)


@router.get("/console/inbox", response_class=HTMLResponse)
def read_rates_page(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    """The brand's in-app messages per campaign: delivered, read, archived, read rate."""
    caller.require(Permission.read_brand)
    rates = service.read_rates(session, caller.brand_id)
    names = service.campaign_names(session, caller.brand_id, {r.campaign_id for r in rates})
    return render(request, "inbox/read_rates.html", {"rates": rates, "names": names})
