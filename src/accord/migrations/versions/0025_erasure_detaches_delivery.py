"""erasure keeps delivery rows: outbox.person_id nullable, outbox and delivery_events person
foreign keys SET NULL (the rows stay, the person detached)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 18:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def _person_key(table: str, ondelete: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(f"fk_{table}_person_id_people", type_="foreignkey")
        if table == "outbox":
            batch_op.alter_column(
                "person_id", existing_type=sa.Uuid(), nullable=ondelete == "SET NULL"
            )
        batch_op.create_foreign_key(
            f"fk_{table}_person_id_people", "people", ["person_id"], ["id"], ondelete=ondelete
        )


def upgrade() -> None:
    _person_key("outbox", "SET NULL")
    _person_key("delivery_events", "SET NULL")


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE person_id IS NULL")
    _person_key("outbox", "CASCADE")
    _person_key("delivery_events", "CASCADE")
