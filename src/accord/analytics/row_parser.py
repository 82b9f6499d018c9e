"""One row of an import file to a Record: which column holds which field, and the checks.

Its own module so that the column-at-a-time fast lane (`columns`) and the importer share it
without importing each other."""

from __future__ import annotations

from accord.analytics import validation as v
from accord.core.errors import InvalidInput


class RowParser:
    """Turns one row of a file into a Record, or raises ValueError with the reason."""

    def __init__(
        self,
        header: list[str],
        mapping: dict[str, str] | None = None,
        *,
        default_currency: str = "USD",
        order_id_auto: bool = False,
    ) -> None:
        self.width = len(header)
        self.time = v.TimeParser()
        self.default_currency = _checked_currency(default_currency)
        self.index = _resolve(header, mapping or {}, order_id_auto)
        at = self.index.get
        self.customer, self.at_time, self.amount = (self.index[f] for f in v.REQUIRED[:3])
        self.order_id = at("order_id")
        self.refund, self.currency, self.channel = at("refund"), at("currency"), at("channel")
        self.product, self.cost, self.email = at("product"), at("cost"), at("email")

    def parse(self, values: list[str], line: int) -> v.Record:
        if len(values) != self.width:
            what = "missing columns" if len(values) < self.width else "too many columns"
            raise ValueError(f"{what}: expected {self.width} values, found {len(values)}")
        # Optional columns are looked up by index once per file, not by name per row.
        customer = v.text_id(values[self.customer], "customer")
        occurred_at = self.time(values[self.at_time])
        refund = False if self.refund is None else v.flag(values[self.refund])
        return v.Record(
            line,
            customer,
            occurred_at,
            v.amount(values[self.amount], refund),
            self.default_currency if self.currency is None else v.currency(values[self.currency]),
            None if self.channel is None else v.channel(values[self.channel]),
            v.auto_order_id(customer, occurred_at, line)
            if self.order_id is None
            else v.text_id(values[self.order_id], "order_id"),
            None
            if self.product is None
            else v.optional_text(values[self.product], "product", v.MAX_PRODUCT),
            None if self.cost is None else v.cost(values[self.cost]),
            refund,
            None if self.email is None else v.email(values[self.email]),
        )


def _checked_currency(code: str) -> str:
    try:
        return v.currency(code)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="currency") from None


def _resolve(header: list[str], mapping: dict[str, str], auto: bool) -> dict[str, int]:
    """Field -> column index: explicit mapping first, then columns named like a field."""
    names = [h.strip() for h in header]
    index: dict[str, int] = {}
    for column, field in mapping.items():
        if field not in v.FIELDS:
            raise InvalidInput(
                f"unknown field {field!r}; fields are {', '.join(v.FIELDS)}", field="map"
            )
        if column not in names:
            raise InvalidInput(f"column {column!r} is not in the file's header", field="map")
        index[field] = names.index(column)
    for i, name in enumerate(names):
        key = name.lower()
        if key in v.FIELDS and key not in index and i not in index.values():
            index[key] = i
    if auto and "order_id" in index:
        raise InvalidInput("order ids are automatic: map no column to order_id", field="map")
    required = [f for f in v.REQUIRED if not (auto and f == "order_id")]
    for field in required:
        if field not in index:
            raise InvalidInput(
                f"no column maps to {field!r}; name one with --map COLUMN={field}", field="map"
            )
    return index
