"""What the intents API accepts and returns. Nothing a brand receives before a person accepts
its offer names the person: `IntentForBrand` has no person id, name or contact point."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from accord.core.validation import LINE, TEXT
from accord.intents.taxonomy import CATEGORIES
from accord.intents.vocabulary import HearBy
from accord.terms.service import PinnedTermsRef, TermsRef


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def _currency(value: str) -> str:
    code = value.strip().upper()
    if code not in _currencies():
        raise ValueError(f"'{value}' is not an ISO 4217 currency code (for example EUR or USD)")
    return code


def _category(value: str) -> str:
    if value not in CATEGORIES:
        raise ValueError(
            f"'{value}' is not a category of the taxonomy (see /api/v1/intent-categories)"
        )
    return value


def _country(value: str) -> str:
    code = value.strip().upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"'{value}' is not an ISO 3166 country code (for example DE or US)")
    return code


Currency = Annotated[str, LINE, AfterValidator(_currency)]
Category = Annotated[str, LINE, AfterValidator(_category)]
Country = Annotated[
    str, StringConstraints(min_length=2, max_length=2), LINE, AfterValidator(_country)
]
# Sent as a number or as a decimal string ("899.00"): the schema says both exactly.
Amount = Annotated[
    Decimal,
    Field(ge=0, le=Decimal("9999999999.99"), decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 9999999999.99},
                {"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$"},
            ]
        }
    ),
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), TEXT
]
Link = Annotated[HttpUrl, Field(max_length=500)]


class Region(BaseModel):
    """Coarse on purpose: a country and, at most, its first-level subdivision."""

    model_config = ConfigDict(extra="forbid")

    country: Country
    subdivision: Annotated[str, LINE] | None = Field(
        default=None, max_length=6, description="ISO 3166-2 first level, e.g. DE-BE or US-CA."
    )

    @field_validator("subdivision")
    @classmethod
    def _first_level(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        code, country = value.strip().upper(), info.data.get("country")
        # pycountry's subdivision lookup carries no type annotations.
        found: Any = pycountry.subdivisions.get(code=code)  # type: ignore[no-untyped-call]
        if found is None or found.country_code != country:
            raise ValueError(f"'{value}' is not a subdivision of {country or 'the country'}")
        if getattr(found, "parent_code", None) is not None:
            raise ValueError(
                f"'{value}' is too precise: name its first-level subdivision ({found.parent_code})"
            )
        return code


class IntentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category
    description: Description
    budget_min: Amount
    budget_max: Amount
    currency: Currency
    timeframe_end: date = Field(description="The last day you want offers for.")
    region: Region
    channel: HearBy = Field(
        default=HearBy.email,
        description="Where you hear about offers; the brand you choose may reach you there.",
    )
    terms: list[TermsRef] = Field(
        default_factory=list, max_length=10, description="Terms any offerer must accept."
    )

    @field_validator("budget_max")
    @classmethod
    def _budget(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        low = info.data.get("budget_min")
        if low is not None and low > value:
            raise ValueError("The budget's maximum is below its minimum.")
        return value


class OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price: Amount
    currency: Currency
    description: Description
    expires_at: datetime = Field(description="When the offer lapses (with a time zone).")
    link: Link | None = None
    terms: list[TermsRef] | None = Field(
        default=None,
        max_length=10,
        description="The terms you accept with this offer; default: the intent's.",
    )


class SubscriptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    categories: list[Category] = Field(max_length=len(CATEGORIES))


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), LINE
    ]
    category: Category
    budget_min: Amount
    budget_max: Amount
    currency: Currency
    country: Country | None = None
    price: Amount
    description: Description
    link: Link | None = None
    valid_days: int = Field(default=7, ge=1, le=90)

    @field_validator("budget_max")
    @classmethod
    def _band(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        low = info.data.get("budget_min")
        if low is not None and low > value:
            raise ValueError("The budget band's maximum is below its minimum.")
        return value


class BlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), LINE
    ]


class CategoryOut(BaseModel):
    id: str
    name: str
    group: str


class RegionOut(BaseModel):
    country: str
    subdivision: str | None


class OfferOut(BaseModel):
    id: uuid.UUID
    intent_id: uuid.UUID
    brand_id: uuid.UUID
    brand_name: str
    price: Decimal
    currency: str
    description: str
    link: str | None
    expires_at: datetime
    terms: list[PinnedTermsRef]
    status: str
    automatic: bool
    created_at: datetime


class CustomerOut(BaseModel):
    """Who the person is: only for the brand whose offer they accepted."""

    person_id: uuid.UUID
    name: str
    channel: str
    contact: str | None


class IntentForBrand(BaseModel):
    """An intent as a brand sees it: anonymous until the person accepts this brand's offer."""

    id: uuid.UUID
    pseudonym: str
    category: str
    category_name: str
    description: str
    budget_min: Decimal
    budget_max: Decimal
    currency: str
    timeframe_end: date
    region: RegionOut
    channel: str
    terms: list[PinnedTermsRef]
    status: str = Field(description="open, closed or withdrawn (expired when past its end)")
    expired: bool
    created_at: datetime
    can_offer: bool
    why_not: str | None
    my_offer: OfferOut | None
    customer: CustomerOut | None


class BrandHistory(BaseModel):
    state: str | None
    since: datetime | None


class OfferForPerson(OfferOut):
    history: BrandHistory


class IntentOut(BaseModel):
    """An intent as its person sees it."""

    id: uuid.UUID
    pseudonym: str
    category: str
    category_name: str
    description: str
    budget_min: Decimal
    budget_max: Decimal
    currency: str
    timeframe_end: date
    region: RegionOut
    channel: str
    terms: list[PinnedTermsRef]
    status: str
    expired: bool
    created_at: datetime
    closed_at: datetime | None
    accepted_offer_id: uuid.UUID | None
    offers: list[OfferForPerson]


class SeenByOut(BaseModel):
    brand_id: uuid.UUID
    brand_name: str
    first_seen_at: datetime
    offered: bool


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    category: str
    budget_min: Decimal
    budget_max: Decimal
    currency: str
    country: str | None
    price: Decimal
    description: str
    link: str | None
    valid_days: int
    active: bool
    created_at: datetime
