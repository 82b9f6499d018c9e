"""The import's column-wise fast lane agrees with the row parser on every row, good or bad."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.analytics.columns import parse_chunk
from accord.analytics.row_parser import RowParser

# Values each column may hold: the usual ones and the ones the fast lane must leave alone
# (untrimmed, too long, out of range, full-width digits, a newline inside a value...).
IDS = ["c1", "ord-0001", "Zoë", "a@b.example", " c1", "c1 ", "", "x" * 64, "x" * 65,
       "\u00a0c2", "c3\u3000", "\U0001f600"]  # fmt: skip
TIMES = ["2024-01-05", "2024-01-05T10:00:00Z", "2024-01-09T10:00:00+02:00", "20240112",
         "2024-01-05T10:00:00", "2024-01-05 10:00", " 2024-01-05", "2024-02-30", "not-a-date",
         "1899-12-31", "2200-12-31T23:30:00-01:00", "1900-01-01T00:30:00+01:00", "2024-W01-1",
         "\uff12\uff10\uff12\uff140112"]  # fmt: skip
AMOUNTS = ["10.00", "5.5", "12.", "0", "-4.00", "abc", "1.234", "1.230", " 3", "+5", "1e3",
           "1_000", "123456789012", "1234567890123", "NaN", "", "5\n6", "٣"]  # fmt: skip
CURRENCIES = ["EUR", "eur", " usd", "XYZ", ""]
CHANNELS = ["web", "Store", "", " x ", "a" * 17, "Ünï"]
FLAGS = ["", "true", "0", "maybe", "Y"]
COSTS = ["", "1.10", "-1", "x", " 2 "]
PRODUCTS = ["", "CD", " LP ", "p" * 121]
EMAILS = ["", "a@b.example", "not-an-address", "A@B.EXAMPLE ", "a b@c.d"]
HEADERS = {
    "plain": (["order_id", "customer", "time", "amount", "currency", "channel"],
              [IDS, IDS, TIMES, AMOUNTS, CURRENCIES, CHANNELS]),
    "full": (["order_id", "customer", "time", "amount", "refund", "cost", "product", "email"],
             [IDS, IDS, TIMES, AMOUNTS, FLAGS, COSTS, PRODUCTS, EMAILS]),
    "auto": (["customer", "time", "amount"], [IDS, TIMES, AMOUNTS]),
}  # fmt: skip


@st.composite
def chunks(draw: st.DrawFn) -> tuple[str, list[tuple[int, list[str]]]]:
    name = draw(st.sampled_from(sorted(HEADERS)))
    _, pools = HEADERS[name]
    n = draw(st.integers(1, 12))
    batch = []
    for line in range(2, n + 2):
        values = [draw(st.sampled_from(pool)) for pool in pools]
        if draw(st.integers(0, 9)) == 0:  # now and then a row of the wrong width
            values = values[:-1] if draw(st.booleans()) else [*values, "extra"]
        batch.append((line, values))
    return name, batch


@settings(max_examples=400, deadline=None)
@given(chunks())
def test_the_fast_lane_gives_the_row_parsers_records_and_reasons(
    chunk: tuple[str, list[tuple[int, list[str]]]],
) -> None:
    name, batch = chunk
    parser = RowParser(HEADERS[name][0], order_id_auto=name == "auto", default_currency="EUR")
    expected, reasons = [], []
    for line, values in batch:
        try:
            expected.append(parser.parse(values, line))
        except ValueError as exc:
            reasons.append((line, str(exc)))
    records, rejected = parse_chunk(parser, batch)
    assert records == expected
    assert [repr(r) for r in records] == [repr(r) for r in expected]  # same Decimal digits too
    assert sorted(rejected) == reasons


def test_a_clean_chunk_takes_no_row_by_row_path() -> None:
    parser = RowParser(HEADERS["plain"][0])
    batch = [(i, [f"o{i}", f"c{i % 3}", "2024-01-05T10:00:00Z", f"{i}.50", "EUR", "web"])
             for i in range(2, 500)]  # fmt: skip
    calls = 0
    parse = parser.parse

    def counting(values: list[str], line: int) -> object:
        nonlocal calls
        calls += 1
        return parse(values, line)

    parser.parse = counting  # type: ignore[method-assign,assignment]
    records, rejected = parse_chunk(parser, batch)
    assert len(records) == 498 and rejected == [] and calls == 0
