"""relationships by (brand, person): a brand's audience read in ranges of person id

Resolving a campaign reads the brand's relationships in batches, each a range of person ids.
With only (brand, state) and (person, brand), SQLite (no statistics) walks every relationship
of the brand for each batch; (brand, person) reads just the batch's range, in order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:40:00.000000
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_relationships_brand_person", "relationships", ["brand_id", "person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_relationships_brand_person", table_name="relationships")
