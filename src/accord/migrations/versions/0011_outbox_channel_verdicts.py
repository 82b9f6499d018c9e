"""outbox: what a channel said about each message (its code, the provider's reference)

Channel adapters answer each hand-over with a verdict that may carry the channel's own code
(an SMTP reply, an HTTP status, a provider's error code) and the provider's id for the
message, which delivery receipts later name. Receipts find the row by (channel, provider_ref):
a partial index, since e-mail and most rows carry none.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("provider_ref", sa.String(length=200), nullable=True))
    op.create_index(
        "ix_outbox_provider_ref",
        "outbox",
        ["channel", "provider_ref"],
        unique=False,
        sqlite_where=sa.text("provider_ref IS NOT NULL"),
        postgresql_where=sa.text("provider_ref IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_provider_ref", table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("provider_ref")
        batch_op.drop_column("error_code")
