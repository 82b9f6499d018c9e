"""Rules for one transaction, shared by the CSV importer and the API.

Each check raises ValueError with the reason a person reads in the rejects file or the API
response; the caller adds the line number or the index.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from accord.core import text

# Active ISO 4217 currency codes (2024). Precious metals, fund codes and XXX/XTS are left out
# on purpose: a transaction is money changing hands.
_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR
    ZMW ZWG
"""
CURRENCIES = frozenset(_CODES.split())
FIELDS = (
    "customer",
    "time",
    "amount",
    "currency",
    "channel",
    "order_id",
    "product",
    "cost",
    "quantity",
    "refund",
    "email",
)
REQUIRED = ("customer", "time", "amount", "order_id")
MAX_ID = 64  # analytics_customers.external_id and analytics_transactions.order_id
MAX_CHANNEL = 16
MAX_PRODUCT = 120
# Numeric(14, 2): twelve digits before the point.
MAX_AMOUNT = Decimal("1e12")
PLAIN_AMOUNT = re.compile(r"[+-]?\d{1,12}(?:\.\d{0,2})?")
TRUE = frozenset({"1", "true", "t", "yes", "y"})
FALSE = frozenset({"", "0", "false", "f", "no", "n"})
# Years outside this range are typing errors, and some would not fit the timestamp types.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


class Record(NamedTuple):
    """A valid transaction, ready to store (amount negative exactly when is_refund)."""

    line: int
    customer: str
    occurred_at: datetime
    amount: Decimal
    currency: str
    channel: str | None
    order_id: str
    product: str | None
    cost: Decimal | None
    is_refund: bool
    email: str | None


def text_id(value: str, name: str) -> str:
    value = value.strip()
    _text(value, name)
    if not value:
        raise ValueError(f"{name} is empty")
    if len(value) > MAX_ID:
        raise ValueError(f"{name} is longer than {MAX_ID} characters")
    return value


def optional_text(value: str | None, name: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    _text(value, name)
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return value or None


def _text(value: str, name: str) -> None:
    wrong = text.problem(value, one_line=True)
    if wrong is not None:
        raise ValueError(f"{name}: {wrong[0].lower()}{wrong[1:]}")


def channel(value: str | None) -> str | None:
    found = optional_text(value, "channel", MAX_CHANNEL)
    return found.lower() if found else None


def utc(moment: datetime | date) -> datetime:
    """Aware UTC datetime; a date is its midnight UTC, a naive datetime is taken as UTC."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    else:
        moment = moment.astimezone(UTC)
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"time {moment.date().isoformat()} is out of range")
    return moment


def parse_time(value: str) -> datetime:
    """ISO 8601 date or date-time (zone optional, UTC assumed) or YYYYMMDD."""
    text = value.strip()
    try:
        if len(text) == 8 and text.isdigit():
            return utc(date(int(text[:4]), int(text[4:6]), int(text[6:])))
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"time is not a date: {value!r}") from None
    # The usual case, UTC already, skips utc()'s conversion: this runs once per row.
    if moment.tzinfo is UTC and EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return moment
    return utc(moment)


class TimeParser:
    """parse_time with a cache for dates: real files repeat the same days on many lines.

    Date-times with seconds rarely repeat, so they are not cached (filling a cache that is
    never hit cost more than the parse).
    """

    def __init__(self, limit: int = 100_000) -> None:
        self.cache: dict[str, datetime] = {}
        self.limit = limit

    def __call__(self, value: str) -> datetime:
        if len(value) > 10:
            return parse_time(value)
        found = self.cache.get(value)
        if found is None:
            found = parse_time(value)
            if len(self.cache) >= self.limit:
                self.cache.clear()
            self.cache[value] = found
        return found


def decimal(value: str | Decimal, name: str) -> Decimal:
    if isinstance(value, str) and PLAIN_AMOUNT.fullmatch(value):
        # Up to 12 digits and 2 decimals: finite, in range and exact; as_tuple() and
        # quantize() below cost ten times the parse, and this runs once per row.
        return Decimal(value)
    try:
        number = value if isinstance(value, Decimal) else Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name} is not a number: {value!r}")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and number != number.quantize(Decimal("0.01")):
        raise ValueError(f"{name} has more than 2 decimal places: {value!r}")
    if abs(number) >= MAX_AMOUNT:
        raise ValueError(f"{name} is too large: {value!r}")
    return number.quantize(Decimal("0.01"))


def amount(value: str | Decimal, refund: bool) -> Decimal:
    """The stored amount: refunds are negative whatever sign they came with."""
    number = decimal(value, "amount")
    if refund:
        return -abs(number)
    if number < 0:
        raise ValueError("negative amount without a refund flag")
    return number


def cost(value: str | Decimal | None) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = decimal(value, "cost")
    if number < 0:
        raise ValueError("cost is negative")
    return number


def currency(value: str) -> str:
    code = value.strip().upper()
    if not code:
        raise ValueError("currency is empty")
    if code not in CURRENCIES:
        raise ValueError(f"unknown currency {value.strip()!r} (not an ISO 4217 code)")
    return code


def flag(value: str | None) -> bool:
    text = (value or "").strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"refund must be true or false, not {value!r}")


def email(value: str | None) -> str | None:
    address = (value or "").strip().lower()
    if not address:
        return None
    local, at, domain = address.partition("@")
    if not (at and local and "." in domain) or " " in address:
        raise ValueError(f"email is not an e-mail address: {value!r}")
    _text(address, "email")
    return address


def auto_order_id(customer: str, occurred_at: datetime, line: int) -> str:
    """Deterministic id for logs without order ids: the same file imports to the same ids."""
    found = f"{customer}-{occurred_at:%Y%m%d}-L{line}"
    if len(found) <= MAX_ID:
        return found
    return "auto-" + hashlib.sha256(found.encode()).hexdigest()[:40]
