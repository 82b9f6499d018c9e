"""compliance: legal rules as data (jurisdictions, their places, rules), loaded from rules.toml

The tables both forms of the gate read. The rules Accord ships with are loaded here, so a new
database has them; `accord compliance load` replaces them later.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    jurisdictions = op.create_table(
        "compliance_jurisdictions",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_compliance_jurisdictions")),
    )
    places = op.create_table(
        "compliance_places",
        sa.Column("jurisdiction", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("subdivision", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction"],
            ["compliance_jurisdictions.code"],
            name=op.f("fk_compliance_places_jurisdiction_compliance_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "jurisdiction", "country", "subdivision", name=op.f("pk_compliance_places")
        ),
    )
    rules = op.create_table(
        "compliance_rules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("jurisdiction", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.Integer(), nullable=True),
        sa.Column("window_end", sa.Integer(), nullable=True),
        sa.Column("max_messages", sa.Integer(), nullable=True),
        sa.Column("hours", sa.Integer(), nullable=True),
        sa.Column("per", sa.String(length=8), nullable=True),
        sa.Column("consent", sa.String(length=24), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction"],
            ["compliance_jurisdictions.code"],
            name=op.f("fk_compliance_rules_jurisdiction_compliance_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_rules")),
    )
    op.create_index(
        op.f("ix_compliance_rules_jurisdiction"), "compliance_rules", ["jurisdiction"], unique=False
    )
    _load_packaged_rules(jurisdictions, places, rules)


def _load_packaged_rules(jurisdictions: sa.Table, places: sa.Table, rules: sa.Table) -> None:
    from datetime import UTC, datetime

    from accord.compliance.rules import read

    ruleset = read()
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    op.bulk_insert(jurisdictions, [{"code": j.code, "name": j.name} for j in ruleset.jurisdictions])
    op.bulk_insert(
        places,
        [
            {"jurisdiction": j.code, "country": country, "subdivision": subdivision}
            for j in ruleset.jurisdictions
            for country, subdivision in j.places
        ],
    )
    columns = {c.name for c in rules.columns}
    op.bulk_insert(
        rules,
        [
            {
                key: value
                for key, value in {**vars(rule), "loaded_at": now}.items()
                if key in columns
            }
            for rule in ruleset.rules
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_compliance_rules_jurisdiction"), table_name="compliance_rules")
    op.drop_table("compliance_rules")
    op.drop_table("compliance_places")
    op.drop_table("compliance_jurisdictions")
