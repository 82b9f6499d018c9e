"""auth: server-side sign-in sessions, password sign-in throttles, magic links per IP

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from accord.core.db import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_sessions_token_hash")),
    )
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_auth_sessions_subject", ["subject_kind", "subject_id"])
        batch_op.create_index(batch_op.f("ix_auth_sessions_created_at"), ["created_at"])
    op.create_table(
        "sign_in_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
        sa.Column("blocked_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttles")),
    )
    with op.batch_alter_table("magic_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ip_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_magic_links_ip_hash"), ["ip_hash"])


def downgrade() -> None:
    with op.batch_alter_table("magic_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_magic_links_ip_hash"))
        batch_op.drop_column("ip_hash")
    op.drop_table("sign_in_throttles")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_sessions_created_at"))
        batch_op.drop_index("ix_auth_sessions_subject")
    op.drop_table("auth_sessions")
