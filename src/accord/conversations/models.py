"""Threads, their messages and attachments, internal notes, saved replies, digest settings.

A thread's row carries what the inbox lists (status, whose turn it is, unread counts, the last
message's time and preview), kept up to date by the statement that adds a message: listing a
page of threads reads one index range and never counts messages.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base, CreatedMixin, IdMixin, utcnow

PREVIEW_CHARS = 160


class Thread(IdMixin, CreatedMixin, Base):
    __tablename__ = "conversation_threads"
    __table_args__ = (
        # The inbox: a brand's threads by status, newest activity first, and its filters.
        Index("ix_conversation_threads_inbox", "brand_id", "status", "last_message_at", "id"),
        Index(
            "ix_conversation_threads_waiting",
            "brand_id",
            "status",
            "waiting_on",
            "last_message_at",
            "id",
        ),
        Index(
            "ix_conversation_threads_assigned",
            "brand_id",
            "assigned_member_id",
            "status",
            "last_message_at",
            "id",
        ),
        # A person's threads, and the open one with a brand (SMS and e-mail replies land there).
        Index("ix_conversation_threads_person", "person_id", "brand_id", "status"),
    )

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    # open | closed. A person's reply reopens a closed thread.
    status: Mapped[str] = mapped_column(String(8), default="open")
    # Whose turn it is: "brand" after the person wrote, "person" after the brand did.
    waiting_on: Mapped[str] = mapped_column(String(8))
    started_by: Mapped[str] = mapped_column(String(8))
    assigned_member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    # The person's messages no member has read yet, and the brand's the person has not.
    brand_unread: Mapped[int] = mapped_column(default=0)
    person_unread: Mapped[int] = mapped_column(default=0)
    message_count: Mapped[int] = mapped_column(default=0)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_author: Mapped[str] = mapped_column(String(8))
    last_preview: Mapped[str] = mapped_column(String(PREVIEW_CHARS))
    # Service times, in whole seconds: from the person's first message to the brand's first
    # answer, and from the start to the (last) closing.
    first_response_at: Mapped[datetime | None]
    first_response_seconds: Mapped[int | None]
    closed_at: Mapped[datetime | None]
    resolution_seconds: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Message(IdMixin, Base):
    """One message of a thread, as the person or the brand wrote it. E-mail replies keep the
    text as received in `original`; `body` is that text without quoted history or signature."""

    __tablename__ = "conversation_messages"
    __table_args__ = (Index("ix_conversation_messages_thread", "thread_id", "created_at", "id"),)

    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversation_threads.id", ondelete="CASCADE")
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    # The thread's person, whoever wrote: the message is part of their export and erasure.
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(8))  # person | brand
    member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    via: Mapped[str] = mapped_column(String(8))  # portal | console | api | email | sms
    body: Mapped[str] = mapped_column(Text)
    original: Mapped[str | None] = mapped_column(Text)
    # Read through the thread index only (no index of its own on a table of millions).
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(IdMixin, Base):
    """A file on a message, type-checked from its bytes; served only to the two parties."""

    __tablename__ = "conversation_attachments"

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversation_messages.id", ondelete="CASCADE"), index=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Note(IdMixin, CreatedMixin, Base):
    """An internal note on a thread: brand members only; never shown to the person."""

    __tablename__ = "conversation_notes"
    # Not part of the person's self-service export (the privacy domain reads this flag).
    __table_args__ = (
        Index("ix_conversation_notes_thread", "thread_id", "created_at"),
        {"info": {"export": False}},
    )

    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversation_threads.id", ondelete="CASCADE")
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)


class SavedReply(IdMixin, CreatedMixin, Base):
    __tablename__ = "conversation_saved_replies"
    __table_args__ = (UniqueConstraint("brand_id", "title"),)

    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)


class MemberDigest(Base):
    """A member's digest e-mail of new messages: on unless turned off; when it last went."""

    __tablename__ = "conversation_member_digests"

    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("brands.id", ondelete="CASCADE"), index=True
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    last_sent_at: Mapped[datetime | None]
