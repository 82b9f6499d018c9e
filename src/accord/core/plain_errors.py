"""Validation errors as sentences a person reads: never a library's own wording.

Pydantic names each error by a `type` and gives its limits in `ctx`; the sentence is chosen by
type, so an upgrade of the library cannot change what people see. Our own validators raise
`PydanticCustomError` with a type of ours (`time_zone`, `locale`, ...) so pages can say
"Choose your time zone from the list" while the API keeps a message that names the format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from accord.core import text

EMAIL = "Enter an e-mail address like name@example.com."
FALLBACK = "Check this value: it is not in a form Accord can use."


def _limit(ctx: Mapping[str, Any], key: str) -> str:
    value = ctx.get(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def _too_short(ctx: Mapping[str, Any]) -> str:
    least = ctx.get("min_length", 1)
    if least == 1:
        return "Fill this in."
    return f"Use at least {_limit(ctx, 'min_length')} characters."


def _too_few(ctx: Mapping[str, Any]) -> str:
    return "Choose at least one." if ctx.get("min_length", 1) == 1 else "Choose more of these."


# Pydantic error type -> the sentence, from the error's context (limits).
_BY_TYPE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda ctx: "Fill this in.",
    "string_too_short": _too_short,
    "string_too_long": lambda ctx: f"Use {_limit(ctx, 'max_length')} characters or fewer.",
    "too_short": _too_few,
    "too_long": lambda ctx: f"Give {_limit(ctx, 'max_length')} or fewer.",
    "string_pattern_mismatch": lambda ctx: "Use only the characters the hint shows.",
    "string_type": lambda ctx: "Enter text here.",
    "int_parsing": lambda ctx: "Enter a whole number, for example 10.",
    "int_type": lambda ctx: "Enter a whole number, for example 10.",
    "int_from_float": lambda ctx: "Enter a whole number, without decimals.",
    "float_parsing": lambda ctx: "Enter a number, for example 2.5.",
    "float_type": lambda ctx: "Enter a number, for example 2.5.",
    "decimal_parsing": lambda ctx: "Enter a number, for example 2.50.",
    "greater_than": lambda ctx: f"Enter a number above {_limit(ctx, 'gt')}.",
    "greater_than_equal": lambda ctx: f"Enter {_limit(ctx, 'ge')} or more.",
    "less_than": lambda ctx: f"Enter a number below {_limit(ctx, 'lt')}.",
    "less_than_equal": lambda ctx: f"Enter {_limit(ctx, 'le')} or less.",
    "bool_parsing": lambda ctx: "Choose yes or no.",
    "bool_type": lambda ctx: "Choose yes or no.",
    "date_parsing": lambda ctx: "Enter a date like 2030-01-31.",
    "date_from_datetime_parsing": lambda ctx: "Enter a date like 2030-01-31.",
    "date_from_datetime_inexact": lambda ctx: "Enter a date without a time.",
    "date_type": lambda ctx: "Enter a date like 2030-01-31.",
    "datetime_parsing": lambda ctx: "Enter a date and time like 2030-01-31 18:00.",
    "datetime_from_date_parsing": lambda ctx: "Enter a date and time like 2030-01-31 18:00.",
    "datetime_type": lambda ctx: "Enter a date and time like 2030-01-31 18:00.",
    "time_parsing": lambda ctx: "Enter a time like 09:30.",
    "literal_error": lambda ctx: "Choose one of the options in the list.",
    "enum": lambda ctx: "Choose one of the options in the list.",
    "uuid_parsing": lambda ctx: "Choose one of the options in the list.",
    "uuid_type": lambda ctx: "Choose one of the options in the list.",
    "extra_forbidden": lambda ctx: "This field is not expected here.",
    "url_parsing": lambda ctx: "Enter a web address like https://example.com.",
    "url_scheme": lambda ctx: "Enter a web address that starts with https://.",
    "dict_type": lambda ctx: "Give a list of names and values.",
    "list_type": lambda ctx: "Give a list.",
    # Our own validators' types (accord.core.validation):
    "email": lambda ctx: EMAIL,
    "time_zone": lambda ctx: "Choose your time zone from the list.",
    "locale": lambda ctx: "Choose your language from the list.",
    "phone": lambda ctx: "Enter a phone number like +44 7911 123456.",
    "region": lambda ctx: "Choose the country from the list.",
}


def plain_message(error: ErrorDetails) -> str:
    """One sentence for one Pydantic error, with the limit it broke (120 characters, 1 or more)."""
    kind = error.get("type", "")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind == text.ERROR_TYPE:
        return str(error.get("msg", ""))  # written for people (accord.core.text)
    if kind in ("too_long", "too_short") and isinstance(error.get("input"), str):
        # Lengths of text checked after a validator (accord.core.validation's Line) come as
        # the generic type: they are still characters.
        kind = f"string_{kind}"
    if kind == "value_error":
        # email-validator's errors come as value_error; ours are written for people already.
        message = str(error.get("msg", ""))
        if message.startswith("value is not a valid email address"):
            return EMAIL
        cause = ctx.get("error")
        return str(cause) if isinstance(cause, ValueError) and str(cause) else FALLBACK
    if kind == "assertion_error":
        return FALLBACK
    sentence = _BY_TYPE.get(kind)
    return sentence(ctx) if sentence else FALLBACK


def plain_errors(exc: ValidationError) -> dict[str, str]:
    """The first plain sentence per top-level field ("form" for errors about the whole)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "form"
        errors.setdefault(field, plain_message(error))
    return errors
