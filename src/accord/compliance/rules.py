"""The rules file: parsed, checked row by row, and folded into the strictest rule per place.

Nothing here touches the database: `loader` writes a checked `RuleSet` into the tables and
`service.rules` reads it back, and both forms of the gate fold what they read with `fold`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from accord.core.errors import InvalidInput

PACKAGED = Path(__file__).resolve().parent / "rules.toml"
EVERYWHERE = "*"
# The design's channels and the purposes a message can have ("*": every one).
CHANNELS = ("email", "sms", "push", "inapp", "postal", "webhook")
PURPOSES = ("marketing", "transactional")
KINDS = ("window", "frequency", "consent")
CONSENTS = ("express", "express_written", "prior")
_PLACE = re.compile(r"^(\*|[A-Z]{2}(-[A-Z0-9]{1,3})?)$")
_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]{0,15}$")]


class RulesFileError(InvalidInput):
    """The rules file is refused; the message names the row and what is wrong with it."""


class _Jurisdiction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Text
    places: list[Annotated[str, StringConstraints(pattern=_PLACE.pattern)]] = Field(min_length=1)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    jurisdiction: Code
    channel: Literal["*", "email", "sms", "push", "inapp", "postal", "webhook"]
    purpose: Literal["*", "marketing", "transactional"]
    kind: Literal["window", "frequency", "consent"]
    start: Annotated[str, StringConstraints(pattern=_HHMM)] | None = None
    end: Annotated[str, StringConstraints(pattern=_HHMM)] | None = None
    max_messages: int | None = Field(default=None, alias="max", ge=1, le=1000)
    hours: int | None = Field(default=None, ge=1, le=24 * 31)
    per: Literal["topic", "brand"] | None = None
    consent: Literal["express", "express_written", "prior"] | None = None
    source: Text
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=500)] | None = None


FIELDS_OF = {
    "window": ("start", "end"),
    "frequency": ("max", "hours", "per"),
    "consent": ("consent",),
}


@dataclass(frozen=True)
class Rule:
    id: str
    jurisdiction: str
    channel: str
    purpose: str
    kind: str
    source: str
    url: str | None = None
    window_start: int | None = None
    window_end: int | None = None
    max_messages: int | None = None
    hours: int | None = None
    per: str | None = None
    consent: str | None = None

    def applies_to(self, channel: str, purpose: str) -> bool:
        return self.channel in (EVERYWHERE, channel) and self.purpose in (EVERYWHERE, purpose)

    def summary(self) -> str:
        """What the rule asks, in a few words."""
        if self.kind == "window":
            return f"{hhmm(self.window_start or 0)}-{hhmm(self.window_end or 0)} local time"
        if self.kind == "frequency":
            return f"at most {self.max_messages} in {self.hours} h per {self.per}"
        return f"{(self.consent or '').replace('_', ' ')} consent"


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: str
    # (country, subdivision): ("*", "") everywhere, ("US", "") the country, ("US", "FL") a state.
    places: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Limit:
    """At most `max_messages` in any `hours` hours, counted per topic or per brand."""

    hours: int
    per: str
    max_messages: int
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Fold:
    """The strictest of the rules that apply at one place, for one channel and purpose."""

    window: tuple[int, int] | None = None
    window_rules: tuple[str, ...] = ()
    limits: tuple[Limit, ...] = ()
    consents: tuple[str, ...] = ()

    def allows_minute(self, minute: int) -> bool:
        return self.window is None or self.window[0] <= minute < self.window[1]


@dataclass(frozen=True)
class RuleSet:
    jurisdictions: tuple[Jurisdiction, ...]
    rules: tuple[Rule, ...]
    _by_place: dict[tuple[str, str], tuple[str, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        # One order whatever the source (the file's or the tables'), so two sets compare.
        ordered = sorted(
            (Jurisdiction(j.code, j.name, tuple(sorted(j.places))) for j in self.jurisdictions),
            key=lambda j: j.code,
        )
        object.__setattr__(self, "jurisdictions", tuple(ordered))
        object.__setattr__(self, "rules", tuple(sorted(self.rules, key=lambda r: r.id)))
        for jurisdiction in self.jurisdictions:
            for place in jurisdiction.places:
                self._by_place.setdefault(place, ())
                self._by_place[place] += (jurisdiction.code,)

    def places(self) -> list[tuple[str, str]]:
        """Every place a rule may single out: each one named, its country, and everywhere."""
        found = {(EVERYWHERE, "")}
        for country, subdivision in self._by_place:
            found.add((country, subdivision))
            if country != EVERYWHERE:
                found.add((country, ""))
        return sorted(found)

    def jurisdictions_at(self, country: str | None, subdivision: str | None) -> set[str]:
        """Codes of every jurisdiction covering the place (everywhere, the country, the state)."""
        codes = set(self._by_place.get((EVERYWHERE, ""), ()))
        if country:
            codes.update(self._by_place.get((country, ""), ()))
            if subdivision:
                codes.update(self._by_place.get((country, subdivision), ()))
        return codes

    def fold(
        self, country: str | None, subdivision: str | None, channel: str, purpose: str
    ) -> Fold:
        """The strictest rule wins: the latest start, the earliest end, the smallest max for
        each (span, count) pair; every consent the laws there ask for."""
        codes = self.jurisdictions_at(country, subdivision)
        rules = [
            r for r in self.rules if r.jurisdiction in codes and r.applies_to(channel, purpose)
        ]
        return _fold(rules)


def _fold(rules: Iterable[Rule]) -> Fold:
    windows = [r for r in rules if r.kind == "window"]
    window = None
    if windows:
        start = max(r.window_start or 0 for r in windows)
        end = min(r.window_end or 0 for r in windows)
        window = (start, end)
    limits: dict[tuple[int, str], list[Rule]] = {}
    for rule in rules:
        if rule.kind == "frequency" and rule.hours and rule.per:
            limits.setdefault((rule.hours, rule.per), []).append(rule)
    return Fold(
        window=window,
        window_rules=tuple(sorted(r.id for r in windows)),
        limits=tuple(
            Limit(hours, per, min(r.max_messages or 0 for r in group), tuple(r.id for r in group))
            for (hours, per), group in sorted(limits.items())
        ),
        consents=tuple(sorted({r.consent for r in rules if r.kind == "consent" and r.consent})),
    )


def minute_of(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:5])


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _place(value: str) -> tuple[str, str]:
    if value == EVERYWHERE:
        return (EVERYWHERE, "")
    country, _, subdivision = value.partition("-")
    return (country, subdivision)


def _plain(error: Mapping[str, Any]) -> tuple[str, str]:
    """(field, sentence) for one of pydantic's errors."""
    where = (
        "".join(
            f" (item {part + 1})" if isinstance(part, int) else f".{part}" for part in error["loc"]
        ).lstrip(".")
        or "row"
    )
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "is not a field a row may have"
    elif error["type"] == "missing":
        message = "is missing"
    elif error["type"] == "string_pattern_mismatch":
        message = f"has the wrong form ({error.get('input')!r})"
    elif error["type"] == "literal_error":
        message = f"must be {error['ctx']['expected']}, not {error.get('input')!r}"
    return where, message


def _refuse(
    name: str, table: str, index: int, row: Mapping[str, Any], where: str, text: str
) -> RulesFileError:
    label = f"{table} {index + 1}"
    ident = row.get("id") or row.get("code")
    if isinstance(ident, str):
        label += f" ({ident!r})"
    return RulesFileError(f"{name}, {label}: {where} {text}.", field=f"{table}[{index}].{where}")


def parse(text: str, name: str = "rules file") -> RuleSet:
    """The rule set in a rules file, or RulesFileError naming the first row that is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesFileError(f"{name} is not valid TOML: {exc}.", field="file") from None
    unknown = set(data) - {"jurisdiction", "rule"}
    if unknown:
        raise RulesFileError(
            f"{name}: unknown section(s) {', '.join(sorted(unknown))}; "
            "only [[jurisdiction]] and [[rule]] rows.",
            field="file",
        )
    jurisdictions: list[Jurisdiction] = []
    for index, row in enumerate(data.get("jurisdiction", [])):
        try:
            checked = _Jurisdiction.model_validate(row)
        except ValidationError as exc:
            raise _refuse(name, "jurisdiction", index, row, *_plain(exc.errors()[0])) from None
        if any(j.code == checked.code for j in jurisdictions):
            raise _refuse(name, "jurisdiction", index, row, "code", "is used twice")
        places = tuple(dict.fromkeys(_place(p) for p in checked.places))
        jurisdictions.append(Jurisdiction(checked.code, checked.name, places))
    known = {j.code for j in jurisdictions}
    rules: list[Rule] = []
    for index, row in enumerate(data.get("rule", [])):
        try:
            checked_rule = _Rule.model_validate(row)
        except ValidationError as exc:
            raise _refuse(name, "rule", index, row, *_plain(exc.errors()[0])) from None
        rules.append(_rule(name, index, row, checked_rule, known, rules))
    ruleset = RuleSet(tuple(jurisdictions), tuple(rules))
    _check_folds(name, ruleset)
    return ruleset


def _rule(
    name: str, index: int, row: Mapping[str, Any], checked: _Rule, known: set[str], seen: list[Rule]
) -> Rule:
    def refuse(where: str, text: str) -> RulesFileError:
        return _refuse(name, "rule", index, row, where, text)

    if checked.jurisdiction not in known:
        raise refuse(
            "jurisdiction", f"{checked.jurisdiction!r} is not a [[jurisdiction]] of the file"
        )
    if any(r.id == checked.id for r in seen):
        raise refuse("id", "is used twice")
    needed = FIELDS_OF[checked.kind]
    for key in needed:
        if row.get(key) is None:
            raise refuse(key, f"is needed by a {checked.kind} rule")
    for kind, fields in FIELDS_OF.items():
        for key in fields:
            if key not in needed and key in row:
                raise refuse(key, f"belongs to a {kind} rule, not a {checked.kind} rule")
    start = minute_of(checked.start) if checked.start else None
    end = minute_of(checked.end) if checked.end else None
    if start is not None and end is not None and end <= start:
        raise refuse("end", f"the window ends ({checked.end}) before it starts ({checked.start})")
    return Rule(
        id=checked.id,
        jurisdiction=checked.jurisdiction,
        channel=checked.channel,
        purpose=checked.purpose,
        kind=checked.kind,
        source=checked.source,
        url=checked.url,
        window_start=start,
        window_end=end,
        max_messages=checked.max_messages,
        hours=checked.hours,
        per=checked.per,
        consent=checked.consent,
    )


def _check_folds(name: str, ruleset: RuleSet) -> None:
    """Rules that together leave no time to send anywhere are refused, naming them."""
    for country, subdivision in ruleset.places():
        for channel in CHANNELS:
            for purpose in PURPOSES:
                fold = ruleset.fold(country, subdivision, channel, purpose)
                if fold.window is not None and fold.window[1] <= fold.window[0]:
                    place = country if not subdivision else f"{country}-{subdivision}"
                    raise RulesFileError(
                        f"{name}: rules {', '.join(fold.window_rules)} leave no time to send "
                        f"{purpose} {channel} at {place} (from {hhmm(fold.window[0])} to "
                        f"{hhmm(fold.window[1])}).",
                        field="rule",
                    )


def read(path: Path | None = None) -> RuleSet:
    path = path or PACKAGED
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesFileError(f"cannot read {path}: {exc.strerror}.", field="file") from None
    return parse(text, path.name)
