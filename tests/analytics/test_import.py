"""CSV import: bad rows to the rejects file with line and reason, good rows land, idempotent."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.analytics.importer import import_csv
from accord.analytics.linking import link_customers
from accord.analytics.models import Customer, Transaction
from accord.analytics.writer_pg import time_ordered_ids
from accord.core.errors import InvalidInput
from accord.core.settings import Settings
from accord.relationships import decisions
from tests.analytics.test_clv_cdnow import _cdnow_dir
from tests.builders import make_brand, make_person, make_relationship

MIXED = """order_id,customer,time,amount,currency,channel,refund
A1,c1,2024-01-05,10.00,EUR,web,
A2,c1,2024-01-09T10:00:00+02:00,5.50,eur,Store,
A3,c2,not-a-date,3.00,EUR,,
A4,c2,2024-01-10,abc,EUR,,
A5,c2,2024-01-10,-4.00,EUR,,
A6,c3,2024-01-11,-4.00,EUR,,true
A7,c3,2024-01-11,4.00,XYZ,,
A8,c3
A1,c1,2024-01-05,99.00,EUR,web,
A1,c1,2024-01-05,10.00,EUR,web,
A9,c4,20240112,7.25,EUR,,
"""
REASONS = {
    4: "time is not a date",
    5: "amount is not a number",
    6: "negative amount without a refund flag",
    8: "unknown currency 'XYZ'",
    9: "missing columns: expected 7 values, found 2",
    10: "duplicate order id 'A1' with a different amount",
}


def _write(tmp_path: Path, text: str, name: str = "tx.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _count(session: Session, brand_id: object) -> int:
    query = select(func.count()).where(Transaction.brand_id == brand_id)
    return int(session.scalar(query) or 0)


@pytest.mark.parametrize("chunk", [2, 50_000])
def test_bad_rows_are_rejected_with_line_and_reason_and_the_rest_import(
    session: Session, settings: Settings, tmp_path: Path, chunk: int
) -> None:
    brand = make_brand(session)
    path, rejects = _write(tmp_path, MIXED), tmp_path / "rejects.csv"
    seen: list[tuple[int, int]] = []
    report = import_csv(
        session, settings, brand.id, path, None, rejects, chunk, lambda d, t: seen.append((d, t))
    )
    assert (report.imported, report.duplicates_skipped, report.rejected) == (4, 1, 6)
    assert report.rows == 11 and report.rejects_path == rejects
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    with rejects.open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["line", "reason", "order_id", "customer", "time", "amount", "currency",
                       "channel", "refund"]  # fmt: skip
    assert [int(r[0]) for r in rows[1:]] == sorted(REASONS)
    for row in rows[1:]:
        assert REASONS[int(row[0])] in row[1], row
    assert rows[1][2:] == ["A3", "c2", "not-a-date", "3.00", "EUR", "", ""]

    stored = {
        t.order_id: t
        for t in session.scalars(select(Transaction).where(Transaction.brand_id == brand.id))
    }
    assert sorted(stored) == ["A1", "A2", "A6", "A9"]
    assert stored["A1"].amount == Decimal("10.00")
    assert stored["A2"].occurred_at.hour == 8 and stored["A2"].channel == "store"
    assert stored["A2"].currency == "EUR"
    assert stored["A6"].is_refund and stored["A6"].amount == Decimal("-4.00")
    assert stored["A9"].occurred_at.day == 12

    again = import_csv(session, settings, brand.id, path, None, rejects, chunk)
    assert (again.imported, again.duplicates_skipped, again.rejected) == (0, 5, 6)
    assert _count(session, brand.id) == 4
    customers = select(func.count()).where(Customer.brand_id == brand.id)
    assert session.scalar(customers) == 3  # c2's rows were all rejected


def test_an_order_id_stored_with_another_amount_is_rejected(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    brand = make_brand(session)
    import_csv(session, settings, brand.id, _write(tmp_path, MIXED), None, tmp_path / "r1.csv")
    later = "order_id,customer,time,amount\nA2,c1,2024-01-09,6.00\nB1,c9,2024-02-01,1\n"
    report = import_csv(
        session, settings, brand.id, _write(tmp_path, later, "b.csv"), None, tmp_path / "r2.csv"
    )
    assert (report.imported, report.rejected) == (1, 1)
    assert "stored: 5.50" in (tmp_path / "r2.csv").read_text()


def test_mapping_and_header_errors(session: Session, settings: Settings, tmp_path: Path) -> None:
    brand = make_brand(session)
    text = "Order;Client;When;Total\n"  # one column: the file is comma-separated
    with pytest.raises(InvalidInput, match="no column maps to 'customer'"):
        import_csv(session, settings, brand.id, _write(tmp_path, text), None, None)
    text = "Order,Client,When,Total,Fee\nX1,k1,2024-03-01,12.5,1.10\n"
    path = _write(tmp_path, text)
    with pytest.raises(InvalidInput, match="column 'Nope' is not in the file's header"):
        import_csv(session, settings, brand.id, path, {"Nope": "customer"}, None)
    with pytest.raises(InvalidInput, match="unknown field 'price'"):
        import_csv(session, settings, brand.id, path, {"Total": "price"}, None)
    mapping = {"Order": "order_id", "Client": "customer", "When": "time", "Total": "amount",
               "Fee": "cost"}  # fmt: skip
    report = import_csv(session, settings, brand.id, path, mapping, None, currency="GBP")
    assert report.imported == 1 and report.rejects_path is None
    row = session.scalars(select(Transaction).where(Transaction.brand_id == brand.id)).one()
    assert (row.amount, row.cost, row.currency) == (Decimal("12.50"), Decimal("1.10"), "GBP")
    assert not (Path(settings.var_dir) / "rejects").exists()


def test_the_cdnow_master_log_imports_with_the_shortcut_or_with_mappings(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    lines = (_cdnow_dir() / "CDNOW_master.txt").read_bytes().split(b"\r\n")[:301]
    excerpt = tmp_path / "master.txt"
    excerpt.write_bytes(b"\r\n".join(lines) + b"\r\n")
    by_format, by_mapping = make_brand(session), make_brand(session)
    first = import_csv(session, settings, by_format.id, excerpt, None, None, fmt="cdnow")
    mapping = {"customer_id": "customer", "date": "time", "number_of_cds": "quantity",
               "dollar_value": "amount"}  # fmt: skip
    second = import_csv(
        session, settings, by_mapping.id, excerpt, mapping, None,
        fmt="whitespace", order_id_auto=True,
    )  # fmt: skip
    assert first.imported == second.imported == 300 and first.rejected == second.rejected == 0

    def orders(brand_id: object) -> list[tuple[str, Decimal]]:
        query = select(Transaction.order_id, Transaction.amount).where(
            Transaction.brand_id == brand_id
        )
        return sorted(session.execute(query).all())

    assert orders(by_format.id) == orders(by_mapping.id)
    assert orders(by_format.id)[0] == ("00001-19970101-L2", Decimal("11.77"))


def test_customers_are_linked_to_related_people_by_email(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    brand = make_brand(session)
    by_id = make_person(session, email="ada@people.example")
    by_column = make_person(session, email="bob@people.example")
    unrelated = make_person(session, email="cy@people.example")
    unverified = make_person(session, email="di@people.example", verified=False)
    for person in (by_id, by_column, unverified):
        make_relationship(session, person=person, brand=brand)
    text = (
        "order_id,customer,time,amount,email\n"
        "1,ADA@people.example,2024-01-01,1,\n"
        "2,crm-42,2024-01-01,1,Bob@People.example\n"
        "3,cy@people.example,2024-01-01,1,\n"
        "4,di@people.example,2024-01-01,1,\n"
        "5,crm-43,2024-01-01,1,not-an-address\n"
    )
    report = import_csv(session, settings, brand.id, _write(tmp_path, text), None, None)
    assert (report.imported, report.rejected) == (4, 1)
    linked = dict(
        session.execute(
            select(Customer.external_id, Customer.person_id).where(Customer.brand_id == brand.id)
        ).all()
    )
    assert linked == {
        "ADA@people.example": by_id.id,
        "crm-42": by_column.id,
        "cy@people.example": None,
        "di@people.example": None,
    }
    # Someone who follows the brand later is linked by the next fit (link_customers).
    decisions.start(session, unrelated.id, brand.id, decisions.PORTAL)
    assert link_customers(session, brand.id) == 1
    assert (
        session.scalar(
            select(Customer.person_id).where(Customer.external_id == "cy@people.example")
        )
        == unrelated.id
    )


def test_a_file_that_is_not_utf8_is_refused(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    brand = make_brand(session)
    path = tmp_path / "latin1.csv"
    path.write_bytes("order_id,customer,time,amount\n1,Zoë,2024-01-01,1\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        import_csv(session, settings, brand.id, path, None, tmp_path / "r.csv")


def test_stored_order_ids_are_found_between_and_beyond_ascii(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    """A chunk's ids are checked against the stored ones by range first: ids between the
    chunk's smallest and largest, and ids beyond ASCII, must still be found."""
    brand = make_brand(session)
    first = (
        "order_id,customer,time,amount\nm,c1,2024-01-01,1\nü,c1,2024-01-01,2\n😀,c2,2024-01-01,3\n"
    )
    import_csv(session, settings, brand.id, _write(tmp_path, first), None, None)
    later = (
        "order_id,customer,time,amount\n"
        "a,c3,2024-02-01,4\n"  # new, and the chunk's range now spans every stored id
        "m,c1,2024-01-01,1\n"  # stored, same amount
        "z,c3,2024-02-01,5\n"  # new, between stored ids
        "ü,c1,2024-01-01,9\n"  # stored with another amount
        "😀,c2,2024-01-01,3\n"  # stored, beyond the Basic Multilingual Plane
    )
    rejects = tmp_path / "r.csv"
    report = import_csv(
        session, settings, brand.id, _write(tmp_path, later, "b.csv"), None, rejects
    )
    assert (report.imported, report.duplicates_skipped, report.rejected) == (2, 2, 1)
    assert "duplicate order id 'ü'" in rejects.read_text()
    assert _count(session, brand.id) == 5


def test_an_import_of_several_chunks_links_and_counts_each_customer_once(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    brand = make_brand(session)
    ada = make_person(session, email="ada@people.example")
    make_relationship(session, person=ada, brand=brand)
    rows = [f"o{i},{'ada@people.example' if i % 7 == 0 else f'k{i % 5}'},2024-01-01,1"
            for i in range(40)]  # fmt: skip
    path = _write(tmp_path, "order_id,customer,time,amount\n" + "\n".join(rows) + "\n")
    report = import_csv(session, settings, brand.id, path, None, None, chunk=3)
    assert report.imported == 40
    customers = dict(
        session.execute(
            select(Customer.external_id, Customer.person_id).where(Customer.brand_id == brand.id)
        ).all()
    )
    assert len(customers) == 6 and customers["ada@people.example"] == ada.id


def test_new_customer_ids_are_increasing_uuid7() -> None:
    ids = time_ordered_ids(1000)
    assert ids == sorted(ids) and len(set(ids)) == 1000 and {i.version for i in ids} == {7}
