"""sms: brands' numbers, texts sent (with delivery status), texts received, HELP answers, the
dev phone; people's places for the legal rules (profile country, phone state or province)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 14:56:56.500291
"""

import sqlalchemy as sa
from alembic import op

import accord.core.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dev_phone_texts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_phone_texts")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_dev_phone_texts_provider_id")),
    )
    with op.batch_alter_table("dev_phone_texts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dev_phone_texts_number"), ["number"], unique=False)

    op.create_table(
        "sms_brand_settings",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("help_text", sa.Text(), nullable=False),
        sa.Column("updated_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_sms_brand_settings_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("brand_id", name=op.f("pk_sms_brand_settings")),
    )
    op.create_table(
        "sms_inbound",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=False),
        sa.Column("to_number", sa.String(length=32), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("received_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_sms_inbound_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_sms_inbound_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_inbound")),
        sa.UniqueConstraint(
            "provider", "provider_id", name=op.f("uq_sms_inbound_provider_provider_id")
        ),
    )
    with op.batch_alter_table("sms_inbound", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sms_inbound_brand_received", ["brand_id", "received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sms_inbound_person_id"), ["person_id"], unique=False)

    op.create_table(
        "sms_numbers",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_sms_numbers_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_numbers")),
        sa.UniqueConstraint("number", name=op.f("uq_sms_numbers_number")),
    )
    with op.batch_alter_table("sms_numbers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_numbers_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_numbers_created_at"), ["created_at"], unique=False)

    op.create_table(
        "sms_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("brand_id", sa.Uuid(), nullable=True),
        sa.Column("outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("to_number", sa.String(length=16), nullable=False),
        sa.Column("from_number", sa.String(length=16), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("created_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_sms_messages_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_sms_messages_outbox_id_outbox"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_sms_messages_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint(
            "provider", "provider_id", name=op.f("uq_sms_messages_provider_provider_id")
        ),
    )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_messages_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_messages_outbox_id"), ["outbox_id"], unique=False)
        batch_op.create_index(
            "ix_sms_messages_person_from", ["person_id", "from_number", "created_at"], unique=False
        )

    with op.batch_alter_table("contact_points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subdivision", sa.String(length=3), nullable=True))

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("place_country", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("place_subdivision", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("place_subdivision")
        batch_op.drop_column("place_country")
        batch_op.drop_column("country")

    with op.batch_alter_table("contact_points", schema=None) as batch_op:
        batch_op.drop_column("subdivision")

    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_messages_person_from")
        batch_op.drop_index(batch_op.f("ix_sms_messages_outbox_id"))
        batch_op.drop_index(batch_op.f("ix_sms_messages_brand_id"))

    op.drop_table("sms_messages")
    with op.batch_alter_table("sms_numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_numbers_created_at"))
        batch_op.drop_index(batch_op.f("ix_sms_numbers_brand_id"))

    op.drop_table("sms_numbers")
    with op.batch_alter_table("sms_inbound", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_inbound_person_id"))
        batch_op.drop_index("ix_sms_inbound_brand_received")

    op.drop_table("sms_inbound")
    op.drop_table("sms_brand_settings")
    with op.batch_alter_table("dev_phone_texts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dev_phone_texts_number"))

    op.drop_table("dev_phone_texts")
