"""The portal's Intents pages and the console's: publish and compare; see anonymously and offer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from pydantic import ValidationError
from sqlalchemy.orm import Session

from accord.brands import service as brands
from accord.brands.deps import BrandDep
from accord.core.db import utcnow
from accord.core.permissions import Permission
from accord.core.plain_errors import plain_message
from accord.core.principals import BrandCaller
from accord.core.web.csrf import csrf_protect
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.forms import handle_form, read_form
from accord.core.web.signing import instance_key
from accord.core.web.templates import flash, render
from accord.intents import service as intents
from accord.intents.schemas import IntentIn, OfferIn, RuleIn
from accord.intents.vocabulary import HearBy
from accord.people.deps import PersonDep
from accord.terms import service as terms

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

MINE = "intents/my_intents.html"
ONE = "intents/my_intent.html"
CONSOLE = "intents/console_intents.html"
CONSOLE_ONE = "intents/console_intent.html"
SETTINGS = "intents/console_settings.html"
CHANNELS = [
    (HearBy.email.value, "E-mail"),
    (HearBy.sms.value, "SMS"),
    (HearBy.push.value, "Push notification"),
    (HearBy.inapp.value, "Accord inbox"),
]
INTENT_FIELDS = [
    "category", "description", "budget_min", "budget_max", "currency", "timeframe_end",
    "country", "subdivision", "channel",
]  # fmt: skip
RULE_FIELDS = [
    "name", "category", "budget_min", "budget_max", "currency", "country", "price",
    "description", "link", "valid_days",
]  # fmt: skip


def _validated(model: Any, body: dict[str, Any], rename: dict[str, str]) -> Any:
    """The model, or errors keyed by the form's field names (nested paths flattened)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            path = ".".join(str(p) for p in error["loc"]) or "form"
            name = rename.get(path, path.split(".")[0])
            errors.setdefault(name, plain_message(error))
        return errors


def _categories() -> list[tuple[str, list[tuple[str, str]]]]:
    return intents.grouped()


# The person's pages.


def _mine(session: Session, person_id: uuid.UUID) -> dict[str, Any]:
    return {
        "intents": [intents.for_person(session, i) for i in intents.mine(session, person_id)],
        "categories": _categories(),
        "channels": CHANNELS,
        "roster": terms.roster_entries(session, latest_only=True),
        "blocked": intents.blocked(session, person_id),
    }


@router.get("/intents", response_class=HTMLResponse)
def my_intents(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    values = {
        "currency": "EUR",
        "channel": "email",
        "timeframe_end": (utcnow().date() + timedelta(days=30)).isoformat(),
    }
    return render(request, MINE, {**_mine(session, person.person_id), "values": values})


@router.post("/intents", response_class=HTMLResponse)
async def publish(
    request: Request, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> Response:
    form = await request.form()
    values = await read_form(request, INTENT_FIELDS)
    chosen_terms = [str(v) for v in form.getlist("terms")]
    values["terms"] = ",".join(chosen_terms)

    def parse(typed: dict[str, str]) -> IntentIn | dict[str, str]:
        body = {
            **{k: typed[k] for k in INTENT_FIELDS if k not in ("country", "subdivision")},
            "region": {"country": typed["country"], "subdivision": typed["subdivision"] or None},
            "terms": [{"id": slug} for slug in chosen_terms],
        }
        return _validated(  # type: ignore[no-any-return]
            IntentIn, body, {"region.country": "country", "region.subdivision": "subdivision"}
        )

    def act(data: IntentIn) -> Response:
        made = intents.publish(
            session, person.person_id, data, settings=settings, mailer=request.app.state.mailer
        )
        flash(
            request,
            f"Published as {made.pseudonym}. Brands see it without knowing who you are.",
            "success",
        )
        return RedirectResponse(f"/intents/{made.id}", status_code=303)

    return await handle_form(
        request,
        session,
        parse,
        act,
        template=MINE,
        values=values,
        field_of={"terms.0.id": "terms", "terms.0.version": "terms"},
        context=lambda: _mine(session, person.person_id),
        model=IntentIn,
    )


@router.get("/intents/{intent_id}", response_class=HTMLResponse)
def my_intent(
    intent_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> HTMLResponse:
    intent = intents.own_intent(session, person.person_id, intent_id)
    shown = intents.for_person(session, intent)
    context = {
        "intent": shown,
        "seen_by": intents.seen_by(session, person.person_id, intent_id),
        "slugs": {o.brand_id: brands.get_brand(session, o.brand_id).slug for o in shown.offers},
        "now": utcnow(),
    }
    return render(request, ONE, context)


@router.post("/intents/{intent_id}/withdraw")
def withdraw(
    intent_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    intents.withdraw(session, person.person_id, intent_id)
    flash(request, "Withdrawn: its offers are closed, and no brand learned who you are.")
    return RedirectResponse(f"/intents/{intent_id}", status_code=303)


@router.post("/intents/offers/{offer_id}/accept")
def accept(
    offer_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    chosen = intents.accept(
        session,
        person.person_id,
        offer_id,
        signer=terms.request_signer(request.app.state.settings, instance_key(request)),
    )
    name = brands.get_brand(session, chosen.brand_id).name
    flash(
        request,
        f"You accepted {name}'s offer. {name} now knows who you are and can reach you; the "
        "other brands learn only that your intent closed.",
        "success",
    )
    return RedirectResponse(f"/intents/{chosen.intent_id}", status_code=303)


@router.post("/intents/blocks")
async def block(request: Request, person: PersonDep, session: SessionDep) -> Response:
    typed = await read_form(request, ["brand", "back"])
    intents.block(session, person.person_id, typed["brand"])
    flash(request, "Blocked: that brand no longer sees your intents or offers on them.")
    back = typed["back"] if typed["back"].startswith("/intents") else "/intents"
    return RedirectResponse(back, status_code=303)


@router.post("/intents/blocks/{brand_id}/remove")
def unblock(
    brand_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> Response:
    intents.unblock(session, person.person_id, brand_id)
    flash(request, "Unblocked: that brand sees your new intents again.")
    return RedirectResponse("/intents", status_code=303)


# The brand's pages.


@router.get("/console/intents", response_class=HTMLResponse)
def console(
    request: Request,
    caller: BrandDep,
    session: SessionDep,
    answerable: bool = False,
    cursor: str | None = None,
) -> HTMLResponse:
    caller.require(Permission.answer_intents)
    rows, next_cursor = intents.listing(
        session, caller.brand_id, answerable=answerable, cursor=cursor, limit=50
    )
    brand = brands.caller_brand(session, caller)
    context = {
        "brand": brand,
        "intents": [
            intents.for_brand(session, i, caller.brand_id, brand_name=brand.name) for i in rows
        ],
        "next_cursor": next_cursor,
        "answerable": answerable,
        "subscribed": intents.subscriptions(session, caller.brand_id),
    }
    return render(request, CONSOLE, context)


def _one(session: Session, caller: BrandCaller, intent_id: uuid.UUID) -> dict[str, Any]:
    intent = intents.visible_intent(session, caller.brand_id, intent_id)
    brand = brands.caller_brand(session, caller)
    return {
        "brand": brand,
        "intent": intents.for_brand(session, intent, caller.brand_id, brand_name=brand.name),
        "accepted_terms": [slug for slug, _ in terms.published_keys(session, caller.brand_id)],
    }


@router.get("/console/intents/{intent_id}", response_class=HTMLResponse)
def console_intent(
    intent_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> HTMLResponse:
    caller.require(Permission.answer_intents)
    context = _one(session, caller, intent_id)
    shown = context["intent"]
    values = {
        "currency": shown.currency,
        "expires_at": (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
    }
    return render(request, CONSOLE_ONE, {**context, "values": values})


@router.post("/console/intents/{intent_id}/offers", response_class=HTMLResponse)
async def make_offer(
    intent_id: uuid.UUID,
    request: Request,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    caller.require(Permission.answer_intents)
    intents.visible_intent(session, caller.brand_id, intent_id)
    values = await read_form(request, ["price", "currency", "description", "expires_at", "link"])

    def parse(typed: dict[str, str]) -> OfferIn | dict[str, str]:
        expires: Any = typed["expires_at"]
        try:  # a datetime-local input has no zone: the form says it is UTC
            moment = datetime.fromisoformat(expires)
            expires = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
        body = {**typed, "expires_at": expires, "link": typed["link"] or None}
        return _validated(OfferIn, body, {})  # type: ignore[no-any-return]

    def act(data: OfferIn) -> Response:
        intents.offer(
            session, caller.brand_id, intent_id, data, settings=settings,
            mailer=request.app.state.mailer,
        )  # fmt: skip
        flash(request, "Offer sent. You learn who the person is only if they accept it.")
        return RedirectResponse(f"/console/intents/{intent_id}", status_code=303)

    return await handle_form(
        request,
        session,
        parse,
        act,
        template=CONSOLE_ONE,
        values=values,
        field_of={"intent": "form"},
        context=lambda: _one(session, caller, intent_id),
        model=OfferIn,
    )


def _settings(session: Session, caller: BrandCaller) -> dict[str, Any]:
    subscribed = set(intents.subscriptions(session, caller.brand_id))
    return {
        "brand": brands.caller_brand(session, caller),
        "categories": _categories(),
        "category_checks": _category_checks(subscribed),
        "rules": intents.rules(session, caller.brand_id),
    }


def _category_checks(subscribed: set[str]) -> Markup:
    """A check box for each category, by group, the subscribed ones checked. Written here: as
    a template loop over the fifty-odd categories it was most of the settings page's render
    (the text is the loop's, its blank lines and indents included)."""
    parts = []
    for group, options in _categories():
        parts.append(f"\n    <fieldset>\n      <legend>{escape(group)}</legend>\n      ")
        for slug, text in options:
            value, checked = escape(slug), "checked" if slug in subscribed else ""
            parts.append(
                f'\n      <div class="check">\n        <input type="checkbox" id="cat-{value}" '
                f'name="categories" value="{value}" {checked}>\n        '
                f'<label for="cat-{value}">{escape(text)}</label>\n      </div>\n      '
            )
        parts.append("\n    </fieldset>\n    ")
    return Markup("".join(parts))


@router.get("/console/intent-settings", response_class=HTMLResponse)
def settings_page(request: Request, caller: BrandDep, session: SessionDep) -> HTMLResponse:
    caller.require(Permission.answer_intents)
    values = {"currency": "EUR", "valid_days": "7"}
    return render(request, SETTINGS, {**_settings(session, caller), "values": values})


@router.post("/console/intent-settings/subscriptions")
async def subscribe(request: Request, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.answer_intents)
    form = await request.form()
    chosen = [str(v) for v in form.getlist("categories") if str(v) in intents.CATEGORIES]
    found = intents.subscribe(session, caller.brand_id, chosen)
    flash(request, f"Your brand sees the intents of {len(found)} categories.")
    return RedirectResponse("/console/intent-settings", status_code=303)


@router.post("/console/intent-settings/rules", response_class=HTMLResponse)
async def add_rule(
    request: Request, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> Response:
    caller.require(Permission.answer_intents)
    values = await read_form(request, RULE_FIELDS)

    def parse(typed: dict[str, str]) -> RuleIn | dict[str, str]:
        body = {**typed, "country": typed["country"] or None, "link": typed["link"] or None}
        return _validated(RuleIn, body, {})  # type: ignore[no-any-return]

    def act(data: RuleIn) -> Response:
        _, made = intents.add_rule(
            session, caller.brand_id, data, settings=settings, mailer=request.app.state.mailer
        )
        flash(request, f"Rule saved; it made {made} offer{'' if made == 1 else 's'} at once.")
        return RedirectResponse("/console/intent-settings", status_code=303)

    return await handle_form(
        request,
        session,
        parse,
        act,
        template=SETTINGS,
        values=values,
        context=lambda: _settings(session, caller),
        model=RuleIn,
    )


@router.post("/console/intent-settings/rules/{rule_id}/deactivate")
def deactivate_rule(
    rule_id: uuid.UUID, request: Request, caller: BrandDep, session: SessionDep
) -> Response:
    caller.require(Permission.answer_intents)
    rule = intents.deactivate_rule(session, caller.brand_id, rule_id)
    flash(request, f"The rule '{rule.name}' makes no more offers.")
    return RedirectResponse("/console/intent-settings", status_code=303)
