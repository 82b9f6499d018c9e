"""transactions keyed by (brand, order id), one foreign key through the customer

Bulk imports write millions of transactions; each index and each foreign-key check is paid
once per row. The surrogate id and its sequence go (the table is addressed by brand and
order id, now the primary key); the two single-column foreign keys (brand, customer) become
one on (brand, customer) to analytics_customers, which also proves that a transaction's
customer belongs to its brand; the customer index shrinks to the columns that foreign key
needs. On PostgreSQL order and customer ids compare byte by byte (collation "C").

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 15:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE = "analytics_transactions"


def _opaque(postgres: bool) -> sa.String:
    return sa.String(length=64, collation="C") if postgres else sa.String(length=64)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # analytics_customers is altered in place, never rebuilt: on SQLite (foreign keys on) a
    # rebuild drops the old table, and the drop deletes its transactions by cascade.
    if postgres:
        op.alter_column(
            "analytics_customers",
            "external_id",
            type_=_opaque(True),
            existing_type=sa.String(length=64),
            existing_nullable=False,
        )
    op.create_index(
        "uq_analytics_customers_brand_id_id", "analytics_customers", ["brand_id", "id"], unique=True
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_transactions_customer_time")
        batch_op.drop_constraint(
            batch_op.f("fk_analytics_transactions_customer_id_analytics_customers"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(
            batch_op.f("fk_analytics_transactions_brand_id_brands"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("uq_analytics_transactions_brand_id_order_id"), type_="unique"
        )
        batch_op.drop_constraint(batch_op.f("pk_analytics_transactions"), type_="primary")
        batch_op.drop_column("id")
        if postgres:
            batch_op.alter_column(
                "order_id", type_=_opaque(True), existing_type=sa.String(length=64)
            )
        batch_op.create_primary_key(
            batch_op.f("pk_analytics_transactions"), ["brand_id", "order_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_analytics_transactions_brand_id_analytics_customers"),
            "analytics_customers",
            ["brand_id", "customer_id"],
            ["brand_id", "id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            "ix_analytics_transactions_customer", ["brand_id", "customer_id"], unique=False
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_transactions_customer")
        batch_op.drop_constraint(
            batch_op.f("fk_analytics_transactions_brand_id_analytics_customers"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(batch_op.f("pk_analytics_transactions"), type_="primary")
        if postgres:
            batch_op.alter_column("order_id", type_=_opaque(False), existing_type=_opaque(True))
    if postgres:
        # BIGSERIAL numbers the rows already stored, as the id column of 0004 did.
        op.execute(f"ALTER TABLE {TABLE} ADD COLUMN id BIGSERIAL NOT NULL")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        if not postgres:
            batch_op.add_column(sa.Column("id", sa.Integer(), nullable=False))
        batch_op.create_primary_key(batch_op.f("pk_analytics_transactions"), ["id"])
        batch_op.create_unique_constraint(
            batch_op.f("uq_analytics_transactions_brand_id_order_id"), ["brand_id", "order_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_analytics_transactions_brand_id_brands"),
            "brands",
            ["brand_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_analytics_transactions_customer_id_analytics_customers"),
            "analytics_customers",
            ["customer_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            "ix_analytics_transactions_customer_time",
            ["brand_id", "customer_id", "occurred_at"],
            unique=False,
        )
    op.drop_index("uq_analytics_customers_brand_id_id", table_name="analytics_customers")
    if postgres:
        op.alter_column(
            "analytics_customers",
            "external_id",
            type_=_opaque(False),
            existing_type=_opaque(True),
            existing_nullable=False,
        )
