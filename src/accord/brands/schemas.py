"""What the brand API and console forms accept and return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from accord.core.permissions import Role
from accord.core.validation import LINE, DisplayName, Email, Line, TrimmedText

Slug = Annotated[Line, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
Name = Annotated[Line, Field(min_length=1, max_length=120)]
Kind = Annotated[Line, Field(max_length=120)]
PostalAddress = Annotated[TrimmedText, Field(max_length=500)]


class BrandCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    slug: Slug
    kind: Kind = ""
    sender_name: Name
    sender_email: Email
    postal_address: PostalAddress | None = None
    support_email: Email


SendRate = Annotated[
    int,
    Field(
        ge=1,
        le=10_000,
        description="Messages per second the brand's campaigns go out at, across all workers.",
    ),
]


class BrandUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    kind: Kind | None = None
    sender_name: Name | None = None
    sender_email: Email | None = None
    postal_address: PostalAddress | None = None
    support_email: Email | None = None
    send_rate_per_second: SendRate | None = None


class BrandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str
    kind: str
    sender_name: str
    sender_email: str
    postal_address: str | None
    support_email: str
    send_rate_per_second: int
    created_at: datetime


# Kept as typed (spaces count), but one line of text like every other field.
Password = Annotated[str, LINE, Field(min_length=12, max_length=200)]


class MemberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    display_name: DisplayName = ""
    role: Role
    password: Password | None = Field(
        default=None, description="Optional; without one the member signs in by e-mailed link."
    )


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    created_at: datetime
    last_sign_in_at: datetime | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    role: Role = Role.marketer


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    secret: str = Field(description="The key itself. Shown this once; Accord keeps only a hash.")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Annotated[str, LINE, Field(max_length=200)] = Field(
        default="", description="Empty only for a member who has no password yet."
    )
    password: Password


class MemberSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Annotated[str, LINE, Field(min_length=1, max_length=200)]
