"""outbox: index (state, brand_id, not_before) for claims fair across brands

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 18:20:00.000000
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_brand_due", ["state", "brand_id", "not_before"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_brand_due")
