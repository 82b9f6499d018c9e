"""`/dev/phone` (only in `dev`): every number the dev phone has texts for, each number's
thread, and a box to type a reply as that person. A typed text takes the same path as a
provider's inbound text (classified, acted on, confirmed), so the STOP flow can be tried
without any provider."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import select

from accord.core.errors import InvalidInput
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import handle_form, parse_form, show_form
from accord.core.web.templates import flash, render
from accord.sms import dev_phone, numbers
from accord.sms.inbound import Inbound, receive
from accord.sms.models import SendingNumber

router = APIRouter(
    prefix="/dev/phone",
    tags=["dev"],
    include_in_schema=False,
    dependencies=[Depends(csrf_protect)],
)
THREAD = "sms/dev_phone_thread.html"


class TypedText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1600)]


@router.get("", response_class=HTMLResponse)
def phone(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "sms/dev_phone.html", {"numbers": dev_phone.numbers(session)})


def _peers(session: SessionDep, number: str, own: str) -> list[str]:
    """Numbers this phone can text: those that texted it, every brand's, and Accord's own."""
    texted = [t.peer for t in reversed(dev_phone.thread(session, number)) if t.peer != "Accord"]
    brand_numbers = session.scalars(select(SendingNumber.number).order_by(SendingNumber.number))
    return list(dict.fromkeys([*texted, *brand_numbers, *([own] if own else [])]))


def _thread_context(session: SessionDep, number: str, own: str) -> dict[str, Any]:
    peers = _peers(session, number, own)
    return {
        "number": number,
        "texts": dev_phone.thread(session, number),
        "peers": [(p, p) for p in peers],
    }


@router.get("/{number}", response_class=HTMLResponse)
def thread(
    number: str, request: Request, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    number = numbers.e164(number)
    context = _thread_context(session, number, settings.sms_from)
    peers = context["peers"]
    first = peers[0][0] if isinstance(peers, list) and peers else ""
    return show_form(request, THREAD, {"to": first}, model=TypedText, **context)


def _parse(values: dict[str, str]) -> TypedText | dict[str, str]:
    data = parse_form(TypedText, values)
    if isinstance(data, dict):
        return data
    try:
        return TypedText(to=numbers.e164(data.to, field="to"), text=data.text)
    except InvalidInput as exc:
        return {"to": exc.detail}


@router.post("/{number}", response_class=HTMLResponse)
async def type_text(
    number: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """Send a text as the person whose phone this is."""
    number = numbers.e164(number)

    def act(data: TypedText) -> Response:
        provider_id = dev_phone.typed(session, number, data.to, data.text)
        state = request.app.state
        received = receive(
            session,
            settings,
            state.texter,
            Inbound("dev", provider_id, number, data.to, data.text),
            state.sms_reply_handlers,
        )
        kind, outcome = received.kind.replace("_", " "), received.outcome.replace("_", " ")
        flash(request, f"Sent. Accord read it as {kind}: {outcome}.")
        return RedirectResponse(f"/dev/phone/{number}", status_code=303)

    return await handle_form(
        request,
        session,
        _parse,
        act,
        template=THREAD,
        fields=["to", "text"],
        model=TypedText,
        context=lambda: _thread_context(session, number, settings.sms_from),
    )
