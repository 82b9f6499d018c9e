"""The intents API. A brand's routes return intents without the person (no id, name or
contact point) until the person accepts that brand's offer."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel

from accord.brands import service as brands
from accord.brands.deps import BRAND_SCOPED, BrandDep
from accord.core.pagination import Page
from accord.core.permissions import Permission
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.params import CursorParam
from accord.core.web.signing import instance_key
from accord.intents import service as intents
from accord.intents.schemas import (
    BlockIn,
    CategoryOut,
    IntentForBrand,
    IntentIn,
    IntentOut,
    OfferIn,
    OfferOut,
    RuleIn,
    RuleOut,
    SeenByOut,
    SubscriptionsIn,
)
from accord.people.deps import PersonDep
from accord.terms import service as terms

public_router = APIRouter(tags=["intents"])
person_router = APIRouter(prefix="/me", tags=["my intents"])
brand_router = APIRouter(tags=["intents", BRAND_SCOPED])


class SubscriptionsOut(BaseModel):
    categories: list[str]


class RuleMade(BaseModel):
    rule: RuleOut
    offers_made: int


class BlockOut(BaseModel):
    brand_id: uuid.UUID
    brand_name: str


@public_router.get("/intent-categories", response_model=list[CategoryOut])
def categories() -> list[CategoryOut]:
    """The taxonomy of consumer categories intents name and brands subscribe to."""
    return [
        CategoryOut(id=slug, name=name, group=group)
        for slug, (name, group) in intents.CATEGORIES.items()
    ]


# The person's side.


@person_router.get("/intents", response_model=list[IntentOut])
def my_intents(person: PersonDep, session: SessionDep) -> list[IntentOut]:
    """Your intents, newest first, each with its offers side by side."""
    return [intents.for_person(session, i) for i in intents.mine(session, person.person_id)]


@person_router.post("/intents", response_model=IntentOut, status_code=status.HTTP_201_CREATED)
def publish(
    data: IntentIn, request: Request, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> IntentOut:
    """Publish an intent. Brands subscribed to its category see it without knowing who you
    are, under a pseudonym made for this intent alone, and may answer with one offer each."""
    made = intents.publish(
        session, person.person_id, data, settings=settings, mailer=request.app.state.mailer
    )
    return intents.for_person(session, made)


@person_router.get("/intents/{intent_id}", response_model=IntentOut)
def my_intent(intent_id: uuid.UUID, person: PersonDep, session: SessionDep) -> IntentOut:
    return intents.for_person(session, intents.own_intent(session, person.person_id, intent_id))


@person_router.post("/intents/{intent_id}/withdraw", response_model=IntentOut)
def withdraw(intent_id: uuid.UUID, person: PersonDep, session: SessionDep) -> IntentOut:
    """Withdraw an intent: its offers close, and no brand learns who you are."""
    return intents.for_person(session, intents.withdraw(session, person.person_id, intent_id))


@person_router.get("/intents/{intent_id}/seen-by", response_model=list[SeenByOut])
def seen_by(intent_id: uuid.UUID, person: PersonDep, session: SessionDep) -> list[SeenByOut]:
    """Every brand that saw the intent, and whether it offered."""
    return [
        SeenByOut(brand_id=b, brand_name=name, first_seen_at=at, offered=offered)
        for b, name, at, offered in intents.seen_by(session, person.person_id, intent_id)
    ]


@person_router.post("/offers/{offer_id}/accept", response_model=IntentOut)
def accept(
    offer_id: uuid.UUID, request: Request, person: PersonDep, session: SessionDep
) -> IntentOut:
    """Accept one offer: that brand alone learns who you are, your relationship with it
    starts on the intent's channel, and the other offerers learn only that the intent closed."""
    chosen = intents.accept(
        session,
        person.person_id,
        offer_id,
        signer=terms.request_signer(request.app.state.settings, instance_key(request)),
    )
    return intents.for_person(
        session, intents.own_intent(session, person.person_id, chosen.intent_id)
    )


@person_router.get("/intent-blocks", response_model=list[BlockOut])
def blocks(person: PersonDep, session: SessionDep) -> list[BlockOut]:
    return [
        BlockOut(brand_id=b, brand_name=n) for b, n in intents.blocked(session, person.person_id)
    ]


@person_router.post(
    "/intent-blocks", response_model=list[BlockOut], status_code=status.HTTP_201_CREATED
)
def block(data: BlockIn, person: PersonDep, session: SessionDep) -> list[BlockOut]:
    """Block a brand (by slug) from seeing and answering your intents."""
    intents.block(session, person.person_id, data.brand)
    return blocks(person, session)


@person_router.delete("/intent-blocks/{brand_id}", response_model=list[BlockOut])
def unblock(brand_id: uuid.UUID, person: PersonDep, session: SessionDep) -> list[BlockOut]:
    intents.unblock(session, person.person_id, brand_id)
    return blocks(person, session)


# The brand's side.


@brand_router.get("/intents", response_model=Page[IntentForBrand])
def brand_intents(
    caller: BrandDep,
    session: SessionDep,
    answerable: bool = False,
    cursor: CursorParam = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> Page[IntentForBrand]:
    """Intents of the categories you subscribe to, anonymous, newest first (`answerable=true`:
    only those you may answer now), and those you offered on."""
    caller.require(Permission.answer_intents)
    rows, next_cursor = intents.listing(
        session, caller.brand_id, answerable=answerable, cursor=cursor, limit=limit
    )
    return Page(
        items=[intents.for_brand(session, i, caller.brand_id) for i in rows],
        next_cursor=next_cursor,
    )


@brand_router.get("/intents/{intent_id}", response_model=IntentForBrand)
def brand_intent(intent_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> IntentForBrand:
    """One intent you see; once its person accepts your offer, `customer` says who they are."""
    caller.require(Permission.answer_intents)
    return intents.for_brand(
        session, intents.visible_intent(session, caller.brand_id, intent_id), caller.brand_id
    )


@brand_router.post(
    "/intents/{intent_id}/offers", response_model=OfferOut, status_code=status.HTTP_201_CREATED
)
def make_offer(
    intent_id: uuid.UUID,
    data: OfferIn,
    request: Request,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
) -> OfferOut:
    """Your one offer on an intent. The terms you accept with it include every term the intent
    requires, and your brand publishes them as accepted."""
    caller.require(Permission.answer_intents)
    made = intents.offer(
        session, caller.brand_id, intent_id, data, settings=settings,
        mailer=request.app.state.mailer,
    )  # fmt: skip
    return intents.offer_out(made, brands.get_brand(session, caller.brand_id).name)


@brand_router.get("/intent-subscriptions", response_model=SubscriptionsOut)
def subscriptions(caller: BrandDep, session: SessionDep) -> SubscriptionsOut:
    caller.require(Permission.answer_intents)
    return SubscriptionsOut(categories=intents.subscriptions(session, caller.brand_id))


@brand_router.put("/intent-subscriptions", response_model=SubscriptionsOut)
def subscribe(data: SubscriptionsIn, caller: BrandDep, session: SessionDep) -> SubscriptionsOut:
    """Set the categories whose intents you see."""
    caller.require(Permission.answer_intents)
    return SubscriptionsOut(categories=intents.subscribe(session, caller.brand_id, data.categories))


@brand_router.get("/intent-rules", response_model=list[RuleOut])
def rules(caller: BrandDep, session: SessionDep) -> list[RuleOut]:
    caller.require(Permission.answer_intents)
    return [RuleOut.model_validate(r) for r in intents.rules(session, caller.brand_id)]


@brand_router.post("/intent-rules", response_model=RuleMade, status_code=status.HTTP_201_CREATED)
def add_rule(
    data: RuleIn, request: Request, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> RuleMade:
    """An auto-offer rule: an offer from its template on every intent of the category whose
    budget meets the band (and in the country, if given), now and as they come."""
    caller.require(Permission.answer_intents)
    rule, made = intents.add_rule(
        session, caller.brand_id, data, settings=settings, mailer=request.app.state.mailer
    )
    return RuleMade(rule=RuleOut.model_validate(rule), offers_made=made)


@brand_router.post("/intent-rules/{rule_id}/deactivate", response_model=RuleOut)
def deactivate_rule(rule_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> RuleOut:
    caller.require(Permission.answer_intents)
    return RuleOut.model_validate(intents.deactivate_rule(session, caller.brand_id, rule_id))
