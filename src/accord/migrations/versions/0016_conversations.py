"""conversations: threads, messages, attachments, internal notes, saved replies, digests

A thread's row carries what the inbox lists (status, whose turn, unread counts, the last
message's time and preview); the inbox reads one index range of it per page.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 14:47:13.637662
"""

import sqlalchemy as sa
from alembic import op

import accord.core.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_saved_replies",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_conversation_saved_replies_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_saved_replies")),
        sa.UniqueConstraint(
            "brand_id", "title", name=op.f("uq_conversation_saved_replies_brand_id_title")
        ),
    )
    with op.batch_alter_table("conversation_saved_replies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_saved_replies_brand_id"), ["brand_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversation_saved_replies_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "conversation_member_digests",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_sent_at", accord.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_conversation_member_digests_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_conversation_member_digests_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_conversation_member_digests")),
    )
    with op.batch_alter_table("conversation_member_digests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_member_digests_brand_id"), ["brand_id"], unique=False
        )

    op.create_table(
        "conversation_threads",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("waiting_on", sa.String(length=8), nullable=False),
        sa.Column("started_by", sa.String(length=8), nullable=False),
        sa.Column("assigned_member_id", sa.Uuid(), nullable=True),
        sa.Column("brand_unread", sa.Integer(), nullable=False),
        sa.Column("person_unread", sa.Integer(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("last_message_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_author", sa.String(length=8), nullable=False),
        sa.Column("last_preview", sa.String(length=160), nullable=False),
        sa.Column("first_response_at", accord.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_response_seconds", sa.Integer(), nullable=True),
        sa.Column("closed_at", accord.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution_seconds", sa.Integer(), nullable=True),
        sa.Column("updated_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_member_id"],
            ["members.id"],
            name=op.f("fk_conversation_threads_assigned_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_conversation_threads_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_conversation_threads_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_threads")),
    )
    with op.batch_alter_table("conversation_threads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_threads_assigned",
            ["brand_id", "assigned_member_id", "status", "last_message_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_conversation_threads_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_conversation_threads_inbox",
            ["brand_id", "status", "last_message_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_conversation_threads_person", ["person_id", "brand_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_conversation_threads_waiting",
            ["brand_id", "status", "waiting_on", "last_message_at", "id"],
            unique=False,
        )

    op.create_table(
        "conversation_messages",
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("author", sa.String(length=8), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("original", sa.Text(), nullable=True),
        sa.Column("created_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_conversation_messages_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_conversation_messages_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_conversation_messages_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["conversation_threads.id"],
            name=op.f("fk_conversation_messages_thread_id_conversation_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_messages")),
    )
    with op.batch_alter_table("conversation_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_messages_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            "ix_conversation_messages_thread", ["thread_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "conversation_notes",
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_conversation_notes_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_conversation_notes_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["conversation_threads.id"],
            name=op.f("fk_conversation_notes_thread_id_conversation_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_notes")),
        info={"export": False},
    )
    with op.batch_alter_table("conversation_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_notes_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_conversation_notes_thread", ["thread_id", "created_at"], unique=False
        )

    op.create_table(
        "conversation_attachments",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_conversation_attachments_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["conversation_messages.id"],
            name=op.f("fk_conversation_attachments_message_id_conversation_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_conversation_attachments_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_attachments")),
    )
    with op.batch_alter_table("conversation_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_attachments_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversation_attachments_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("conversation_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_attachments_person_id"))
        batch_op.drop_index(batch_op.f("ix_conversation_attachments_message_id"))

    op.drop_table("conversation_attachments")
    with op.batch_alter_table("conversation_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_notes_thread")
        batch_op.drop_index(batch_op.f("ix_conversation_notes_created_at"))

    op.drop_table("conversation_notes")
    with op.batch_alter_table("conversation_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_messages_thread")
        batch_op.drop_index(batch_op.f("ix_conversation_messages_person_id"))

    op.drop_table("conversation_messages")
    with op.batch_alter_table("conversation_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_threads_waiting")
        batch_op.drop_index("ix_conversation_threads_person")
        batch_op.drop_index("ix_conversation_threads_inbox")
        batch_op.drop_index(batch_op.f("ix_conversation_threads_created_at"))
        batch_op.drop_index("ix_conversation_threads_assigned")

    op.drop_table("conversation_threads")
    with op.batch_alter_table("conversation_member_digests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_member_digests_brand_id"))

    op.drop_table("conversation_member_digests")
    with op.batch_alter_table("conversation_saved_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_saved_replies_created_at"))
        batch_op.drop_index(batch_op.f("ix_conversation_saved_replies_brand_id"))

    op.drop_table("conversation_saved_replies")
