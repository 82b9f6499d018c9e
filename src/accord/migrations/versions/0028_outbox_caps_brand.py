"""outbox_caps_brand: the caps index also holds the brand, so the frequency caps are counted
from the index alone (an index-only scan on PostgreSQL, a covering index on SQLite)

A batch of a resolve counts its range of people's marketing in the cap window, by brand and in
all. Without the brand in the index every counted message was read from the table: a range of
people's messages lie spread over most of its pages (at a million people a batch of a tenth of
them read 61% of the outbox's pages, and each of ten batches did, about 0.4 s of each batch's
0.8 s).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 22:25:00.000000
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_caps")
        batch_op.create_index(
            "ix_outbox_caps", ["person_id", "purpose", "sent_at", "brand_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_caps")
        batch_op.create_index("ix_outbox_caps", ["person_id", "purpose", "sent_at"], unique=False)
