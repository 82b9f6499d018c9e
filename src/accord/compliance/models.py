"""The legal rules, loaded from one data file (`rules.toml`) into three tables that both forms
of the gate read: jurisdictions, the places each covers, and the rules keyed by jurisdiction,
channel and purpose, each naming its legal source."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, utcnow


class Jurisdiction(Base):
    __tablename__ = "compliance_jurisdictions"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class JurisdictionPlace(Base):
    """A place a jurisdiction covers: a country (ISO 3166-1 alpha-2), a state or province of
    one (its ISO 3166-2 code's second part), or everywhere ("*", subdivision "")."""

    __tablename__ = "compliance_places"

    jurisdiction: Mapped[str] = mapped_column(
        ForeignKey("compliance_jurisdictions.code", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    # "" for the whole country.
    subdivision: Mapped[str] = mapped_column(String(3), primary_key=True)


class LegalRule(Base):
    """One rule: a sending window (local time), a frequency limit, or a consent requirement,
    for a channel ("*": every channel) and a purpose ("*": every purpose)."""

    __tablename__ = "compliance_rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(
        ForeignKey("compliance_jurisdictions.code", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    # window: minutes after local midnight, start inclusive, end exclusive.
    window_start: Mapped[int | None]
    window_end: Mapped[int | None]
    # frequency: at most `max_messages` in any `hours` hours, per topic or per brand.
    max_messages: Mapped[int | None]
    hours: Mapped[int | None]
    per: Mapped[str | None] = mapped_column(String(8))
    # consent: the kind the law asks for (express, express_written, prior).
    consent: Mapped[str | None] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
