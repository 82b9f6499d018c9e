"""analytics: the figures a fit computes once for the console tabs (RFM, channel mix,
profitability, holdout), stored beside the fit

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import accord.core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_fit_snapshots",
        sa.Column("fit_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("computed_at", accord.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name=op.f("fk_analytics_fit_snapshots_brand_id_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fit_id"],
            ["analytics_fits.id"],
            name=op.f("fk_analytics_fit_snapshots_fit_id_analytics_fits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("fit_id", name=op.f("pk_analytics_fit_snapshots")),
    )
    op.create_index(
        op.f("ix_analytics_fit_snapshots_brand_id"),
        "analytics_fit_snapshots",
        ["brand_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_analytics_fit_snapshots_brand_id"), table_name="analytics_fit_snapshots")
    op.drop_table("analytics_fit_snapshots")
