"""campaigns: saved segments (a brand's named audiences for the composer)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 19:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import accord.core.db

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_segments",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_saved_segments_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_segments")),
        sa.UniqueConstraint("brand_id", "name", name=op.f("uq_saved_segments_brand_id_name")),
    )
    with op.batch_alter_table("saved_segments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_segments_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_saved_segments_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("saved_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_segments_created_at"))
        batch_op.drop_index(batch_op.f("ix_saved_segments_brand_id"))
    op.drop_table("saved_segments")
