"""Validation errors reach people as sentences of ours, never as the library's text."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from accord.core.plain_errors import EMAIL, FALLBACK, plain_errors
from accord.core.validation import Email, Locale, TimeZone
from accord.core.web.forms import limits

# Phrases of Pydantic's own messages: none may reach a person.
LIBRARY_WORDING = ("Input should", "String should", "Value error", "value is not", "Field required")


class Everything(BaseModel):
    email: Email
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    secret: Annotated[str, Field(min_length=12)] | None = None
    zone: TimeZone = "UTC"
    locale: Locale = "en"
    count: Annotated[int, Field(ge=0, le=500)] = 1
    share: Annotated[float, Field(gt=0, le=100)] = 30
    day: date | None = None
    kind: Literal["a", "b"] = "a"


def errors_of(**values: object) -> dict[str, str]:
    base: dict[str, object] = {"email": "a@example.com", "name": "A"}
    with pytest.raises(ValidationError) as caught:
        Everything.model_validate(base | values)
    return plain_errors(caught.value)


@pytest.mark.parametrize(
    ("values", "field", "sentence"),
    [
        ({"email": "not-an-address"}, "email", EMAIL),
        ({"email": ""}, "email", EMAIL),
        ({"name": ""}, "name", "Fill this in."),
        ({"name": "x" * 121}, "name", "Use 120 characters or fewer."),
        ({"secret": "short"}, "secret", "Use at least 12 characters."),
        ({"zone": "Mars/Olympus"}, "zone", "Choose your time zone from the list."),
        ({"locale": "!!"}, "locale", "Choose your language from the list."),
        ({"count": "ten"}, "count", "Enter a whole number, for example 10."),
        ({"count": "501"}, "count", "Enter 500 or less."),
        ({"count": "-1"}, "count", "Enter 0 or more."),
        ({"share": "0"}, "share", "Enter a number above 0."),
        ({"share": "lots"}, "share", "Enter a number, for example 2.5."),
        ({"day": "31/01/2030"}, "day", "Enter a date like 2030-01-31."),
        ({"kind": "c"}, "kind", "Choose one of the options in the list."),
    ],
)
def test_each_kind_of_error_is_a_sentence(
    values: dict[str, object], field: str, sentence: str
) -> None:
    found = errors_of(**values)
    assert found[field] == sentence
    assert not any(phrase in found[field] for phrase in LIBRARY_WORDING)


def test_a_missing_field_asks_for_it_and_an_unknown_type_falls_back_to_ours() -> None:
    with pytest.raises(ValidationError) as caught:
        Everything.model_validate({"name": "A"})
    assert plain_errors(caught.value) == {"email": "Fill this in."}
    found = plain_errors(
        ValidationError.from_exception_data(
            "X", [{"type": "is_instance_of", "loc": ("x",), "input": 1, "ctx": {"class": "Y"}}]
        )
    )
    assert found == {"x": FALLBACK}


def test_limits_come_from_the_model() -> None:
    found = limits(Everything)
    assert found["name"] == {"required": True, "maxlength": 120}
    assert found["email"] == {"required": True, "maxlength": 320}
    # Optional with a strength rule (12 characters) is not required; a plain optional is neither.
    assert found["secret"] == {}
    assert found["count"] == {}
