"""outbox_handovers: the hand-over journal (each message a channel took, until its chunk commits)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 19:05:00.000000
"""

import sqlalchemy as sa
from alembic import op

import accord.core.db

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_handovers",
        sa.Column("outbox_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider_ref", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("outbox_id", name=op.f("pk_outbox_handovers")),
    )


def downgrade() -> None:
    op.drop_table("outbox_handovers")
