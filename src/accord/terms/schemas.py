"""What the terms API accepts and returns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from accord.core.validation import LINE
from accord.terms.vocabulary import Answer

RosterId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"),
    LINE,
]
Version = Annotated[int, Field(ge=1, le=1_000_000)]
BrandSlug = RosterId


class TermsRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: RosterId = Field(description="The roster id, e.g. no-stalking.")
    version: Version | None = Field(default=None, description="Omit for the latest version.")


class PinnedTermsRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: RosterId
    version: Version


class RosterEntryOut(BaseModel):
    id: str
    version: int
    title: str
    text: str
    machine: dict[str, Any]
    follows: str | None
    follows_url: str | None
    effects: list[str]


class ProfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    terms: RosterId = Field(description="The roster id to proffer, e.g. no-stalking.")
    version: Version | None = Field(default=None, description="Omit for the latest version.")
    brand: BrandSlug | None = Field(
        default=None, description="A brand's slug; omit to proffer to every brand."
    )


class OnlyMyTermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    only_my_terms: bool


class OnlyMyTermsOut(BaseModel):
    only_my_terms: bool


class AgreementOut(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    brand_id: uuid.UUID
    brand_name: str
    terms: PinnedTermsRef
    status: str
    alternative: PinnedTermsRef | None
    agreed: PinnedTermsRef | None
    answered_by: str | None
    proffered_at: datetime
    answered_at: datetime | None
    accepted_at: datetime | None
    withdrawn_at: datetime | None
    effects: list[str]
    signed: bool


class ProfferOut(BaseModel):
    id: uuid.UUID
    terms: PinnedTermsRef
    title: str
    brand_id: uuid.UUID | None = Field(description="Null: proffered to every brand.")
    created_at: datetime
    withdrawn_at: datetime | None
    agreements: list[AgreementOut]


class MyTermsOut(BaseModel):
    only_my_terms: bool
    proffers: list[ProfferOut]


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepts: list[PinnedTermsRef] = Field(
        max_length=100, description="Every roster entry (id and version) the brand accepts."
    )


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Answer
    alternative: TermsRef | None = Field(
        default=None, description="With answer 'alternative': the roster entry you offer."
    )


class EffectsOut(BaseModel):
    person_id: uuid.UUID
    brand_id: uuid.UUID
    effects: list[str]
    in_force: list[PinnedTermsRef]
    unmet: list[PinnedTermsRef] = Field(
        description="Entries the person proffers to the brand that are not in force."
    )
