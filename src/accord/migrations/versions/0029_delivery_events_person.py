"""delivery_events_person: a person's delivery events by an index, newest first

The relationship page's tracking section reads the person's opens and clicks with the brand
on every view; with no index on the person, each view scanned every brand's events (and so
did setting a deleted person's events to NULL).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 04:40:00.000000
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_events_person", ["person_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery_events", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_events_person")
