"""People's pages: sign up, sign in by link, home, profile, sign out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Uuid, bindparam, select

from accord.core import pickers
from accord.core.db import utcnow
from accord.core.direct import Direct
from accord.core.errors import AccordError, NotFound
from accord.core.web import sign_in
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep, client_ip
from accord.core.web.forms import handle_form, parse_form, read_form, show_form
from accord.core.web.next_page import FIELD, safe_next
from accord.core.web.panels import panels_for
from accord.core.web.templates import flash, render
from accord.core.web.timing import equal_time
from accord.people import service
from accord.people.deps import PersonDep
from accord.people.models import ContactPoint, Person
from accord.people.schemas import ProfileUpdate, SignIn, SignUp

PROFILE = "people/profile.html"

router = APIRouter(
    tags=["people pages"], include_in_schema=False, dependencies=[Depends(csrf_protect)]
)


SIGNUP = "people/signup.html"
EQUAL_TIME = [Depends(equal_time, scope="function")]
SIGNIN = "people/signin.html"


def _pickers(**current: str) -> dict[str, Any]:
    """The pickers' options (with a stored value the list lacks, so a saved form keeps it)."""
    return {
        "zones": pickers.with_current(pickers.time_zone_options(utcnow().date().isoformat()), ""),
        "languages": pickers.with_current(pickers.language_options(), current.get("locale", "")),
        "countries": pickers.country_options(),
    }


def _picked(allowed_locale: str = "") -> Callable[[dict[str, str]], dict[str, str]]:
    """Errors for a picker value not in its list (sent by hand), beside the field."""

    def check(values: dict[str, str]) -> dict[str, str]:
        errors = {}
        locale = values.get("locale", "")
        if locale and locale not in pickers.language_tags() and locale != allowed_locale:
            errors["locale"] = "Choose your language from the list."
        country = values.get("country", "").strip().upper()
        if country and country not in pickers.country_codes():
            errors["country"] = "Choose your country from the list."
        return errors

    return check


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request) -> HTMLResponse:
    values = {"time_zone": "UTC", "locale": "en"}
    return show_form(request, SIGNUP, values, model=SignUp, **_pickers())


@router.post("/signup", response_class=HTMLResponse, dependencies=EQUAL_TIME)
async def signup(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    def act(data: SignUp) -> Response:
        mailer = request.app.state.mailer
        service.sign_up(session, settings, mailer, data, ip=client_ip(request))
        return render(request, "people/check_inbox.html", {"email": data.email})

    def parse(values: dict[str, str]) -> SignUp | dict[str, str]:
        found = parse_form(SignUp, values)
        wrong = _picked()(values)
        return {**(found if isinstance(found, dict) else {}), **wrong} or found

    return await handle_form(
        request,
        session,
        parse,
        act,
        template=SIGNUP,
        fields=list(SignUp.model_fields),
        model=SignUp,
        context=_pickers,
    )


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str = "") -> HTMLResponse:
    # Kept in the session: the e-mailed link opens in this browser and comes back to it.
    if next:
        request.session[FIELD] = safe_next(next, "")
    return show_form(request, SIGNIN, {}, model=SignIn)


@router.post("/signin", response_class=HTMLResponse, dependencies=EQUAL_TIME)
async def signin(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    def act(data: SignIn) -> Response:
        mailer = request.app.state.mailer
        service.request_sign_in(session, settings, mailer, data.email, ip=client_ip(request))
        return render(request, "people/check_inbox.html", {"email": data.email})

    return await handle_form(request, session, SignIn, act, template=SIGNIN)


@router.get("/auth/link", response_class=HTMLResponse)
def confirm_link(request: Request, token: str = "") -> HTMLResponse:
    # A GET never uses the link up: mail scanners prefetch links, people press the button.
    return render(request, "people/confirm_link.html", {"token": token})


@router.post("/auth/link")
async def use_link(request: Request, session: SessionDep) -> Response:
    values = await read_form(request, ["token"])
    try:
        person = service.complete_sign_in(session, values["token"])
    except AccordError as exc:
        return render(request, "people/link_failed.html", {"detail": exc.detail}, status_code=400)
    target = safe_next(request.session.get(FIELD), "/home")
    if target.startswith("/console"):
        target = "/home"
    days = request.app.state.settings.session_days
    sign_in.begin(request, session, kind=sign_in.PERSON, subject_id=person.id, days=days)
    flash(request, "You are signed in.")
    return RedirectResponse(target, status_code=303)


@router.post("/signout")
def signout(request: Request, session: SessionDep) -> Response:
    sign_in.end(request, session)
    flash(request, "You are signed out.")
    return RedirectResponse("/", status_code=303)


@router.post("/signout-everywhere")
def signout_everywhere(request: Request, person: PersonDep, session: SessionDep) -> Response:
    """End every session of this person, on every device, this one included."""
    sign_in.end_all(session, kind=sign_in.PERSON, subject_id=person.person_id)
    sign_in.end(request, session)
    flash(request, "You are signed out on every device.")
    return RedirectResponse("/", status_code=303)


# What the home page shows of the person and their contact points (in `contact_points`' order),
# built once and run on the session's cursor (`core.direct`): only the columns shown, where the
# ORM objects cost most of the page's reads.
_ME = Direct(
    select(Person.display_name, Person.email, Person.time_zone, Person.locale).where(
        Person.id == bindparam("person", type_=Uuid())
    )
)
_POINTS = Direct(
    select(
        ContactPoint.channel,
        ContactPoint.address,
        ContactPoint.is_primary,
        ContactPoint.verified_at,
        ContactPoint.suppressed_reason,
    )
    .where(ContactPoint.person_id == bindparam("person", type_=Uuid()))
    .order_by(ContactPoint.is_primary.desc(), ContactPoint.created_at)
)


@router.get("/home", response_class=HTMLResponse)
def home(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    me = _ME.first(session, person=person.person_id)
    if me is None:
        raise NotFound("No such person.")
    points = _POINTS.all(session, person=person.person_id)
    panels = panels_for(request, "home", session, person.person_id, None)
    context = {"me": me, "contact_points": points, "panels": panels}
    return render(request, "people/home.html", context)


@router.get("/profile", response_class=HTMLResponse)
def profile_form(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    me = service.get_person(session, person.person_id)
    values = {
        "display_name": me.display_name,
        "time_zone": me.time_zone,
        "locale": me.locale,
        "country": me.country or "",
    }
    return show_form(
        request, PROFILE, values, model=ProfileUpdate, me=me, **_pickers(locale=me.locale)
    )


@router.post("/profile", response_class=HTMLResponse)
async def profile(request: Request, person: PersonDep, session: SessionDep) -> Response:
    def act(data: ProfileUpdate) -> Response:
        service.update_profile(session, person.person_id, data)
        flash(request, "Your profile is saved.")
        return RedirectResponse("/profile", status_code=303)

    me = service.get_person(session, person.person_id)
    stored = me.locale

    def context() -> dict[str, Any]:
        return {"me": service.get_person(session, person.person_id), **_pickers(locale=stored)}

    def parse(values: dict[str, str]) -> ProfileUpdate | dict[str, str]:
        found = parse_form(ProfileUpdate, values)
        wrong = _picked(stored)(values)
        return {**(found if isinstance(found, dict) else {}), **wrong} or found

    return await handle_form(
        request,
        session,
        parse,
        act,
        template=PROFILE,
        fields=list(ProfileUpdate.model_fields),
        model=ProfileUpdate,
        context=context,
    )
