"""Magic links for people and brand members: only a hash of the token is stored."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, CreatedMixin, IdMixin


class MagicLink(IdMixin, CreatedMixin, Base):
    __tablename__ = "magic_links"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    # Null for an address with no account: the row still counts towards the rate limit,
    # so asking for a link behaves the same whether or not the account exists.
    subject_id: Mapped[uuid.UUID | None]
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
