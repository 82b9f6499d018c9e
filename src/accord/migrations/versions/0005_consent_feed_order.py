"""consent change feed: the writing transaction's id on each ledger event

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 14:20:00

On PostgreSQL ids are taken at insert time but become visible at commit, so a feed paging by
id alone skips an event whose transaction commits after a later id was read. Each event now
records its transaction id (`pg_current_xact_id()`), and the feed pages on (txid, id) up to
the oldest transaction still running. SQLite has one writer at a time, so ids already follow
commit order there and txid stays 0. Existing events get 0: they are all committed, and
cursors handed out before this change still page correctly.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("txid", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.create_index("ix_ledger_events_feed", ["brand_id", "txid", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE ledger_events ALTER COLUMN txid "
            "SET DEFAULT pg_current_xact_id()::text::bigint"
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_events_feed")
        batch_op.drop_column("txid")
