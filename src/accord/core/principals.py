"""Who is calling: a person (session cookie) or a brand (member session or API key)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from accord.core.errors import PermissionDenied
from accord.core.permissions import Permission, role_allows


@dataclass(frozen=True)
class BrandCaller:
    """A brand-scoped caller. Every brand-scoped query filters on `brand_id`."""

    brand_id: uuid.UUID
    role: str
    member_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    # The brand's row, read in the same statement as the credential (its columns as
    # attributes): the caller's own brand costs a route no second read.
    brand: object = field(default=None, compare=False, repr=False)
    # A signed-in member's address, read in that statement too (a page that shows it).
    member_email: str | None = field(default=None, compare=False, repr=False)

    def require(self, permission: Permission) -> None:
        if not role_allows(self.role, permission):
            raise PermissionDenied(f"Your role ({self.role}) may not {permission.value}.")


@dataclass(frozen=True)
class PersonCaller:
    person_id: uuid.UUID
