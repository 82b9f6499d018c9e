"""The export's rows of a dependent table are found through an index, not by reading the whole
table: a customer's transactions are keyed (brand, customer), and the count on the export
summary page read every transaction of every brand when it matched the customer alone."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from accord.models import metadata
from accord.privacy.service import owned_rows


def test_a_persons_transactions_are_found_through_the_key_index(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        return  # the plan's wording is SQLite's; PostgreSQL's planner has statistics
    transactions = metadata.tables["analytics_transactions"]
    customers = metadata.tables["analytics_customers"]
    query = select(transactions.c.customer_id).where(
        owned_rows(transactions, "customer_id", customers, "person_id", uuid.uuid4())
    )
    compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = " ".join(str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "SCAN analytics_transactions" not in plan, plan
    assert "SEARCH analytics_transactions" in plan, plan
