"""The rules file: the shipped rules, the strictest rule per place, and every bad row refused
at load with the row named, nothing partial written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from accord.cli import build
from accord.compliance import service
from accord.compliance.models import LegalRule
from accord.compliance.rules import Fold, Limit, RulesFileError, parse, read

HEAD = """
[[jurisdiction]]
code = "US"
name = "United States"
places = ["US"]

[[jurisdiction]]
code = "US-FL"
name = "Florida"
places = ["US-FL"]
"""


def rule(**fields: object) -> str:
    base: dict[str, object] = {
        "id": "r1",
        "jurisdiction": "US",
        "channel": "sms",
        "purpose": "marketing",
        "kind": "window",
        "start": "08:00",
        "end": "21:00",
        "source": "A law",
    }
    base.update(fields)
    lines = [f"{k} = {v!r}".replace("'", '"') for k, v in base.items() if v is not None]
    return "\n[[rule]]\n" + "\n".join(lines) + "\n"


def test_the_shipped_rules_fold_to_the_laws_hours_and_limits() -> None:
    rules = read()
    florida = rules.fold("US", "FL", "sms", "marketing")
    assert florida.window == (8 * 60, 20 * 60)
    assert florida.limits == (
        Limit(hours=24, per="topic", max_messages=3, rules=("us-fl-frequency",)),
    )
    assert "express_written" in florida.consents
    assert rules.fold("US", "OK", "sms", "marketing").window == (480, 1200)
    assert rules.fold("US", "MD", "sms", "marketing").window == (480, 1200)
    texas = rules.fold("US", "TX", "sms", "marketing")
    assert texas.window == (480, 1260) and texas.limits == ()
    # Transactional texts keep Accord's own hours everywhere; e-mail has no hours at all.
    assert rules.fold("DE", None, "sms", "transactional").window == (480, 1260)
    assert rules.fold(None, None, "sms", "marketing").window == (480, 1260)
    assert rules.fold("US", "FL", "email", "marketing") == Fold()
    assert rules.fold("FR", None, "email", "marketing").consents == ("prior",)
    assert rules.fold("CA", "ON", "sms", "marketing").consents == ("express",)
    for r in rules.rules:
        assert r.source.strip(), r.id


def test_the_strictest_rule_wins_across_jurisdictions() -> None:
    text = HEAD + rule(id="fed", start="08:00", end="21:00")
    text += rule(id="fl", jurisdiction="US-FL", start="09:00", end="20:30")
    text += rule(
        id="fed-freq", kind="frequency", start=None, end=None, max=5, hours=24, per="topic"
    )
    text += rule(
        id="fl-freq", jurisdiction="US-FL", kind="frequency", start=None, end=None,
        max=3, hours=24, per="topic",
    )  # fmt: skip
    text += rule(
        id="fl-week", jurisdiction="US-FL", kind="frequency", start=None, end=None,
        max=10, hours=168, per="brand",
    )  # fmt: skip
    rules = parse(text)
    fold = rules.fold("US", "FL", "sms", "marketing")
    assert fold.window == (9 * 60, 20 * 60 + 30)
    assert [(lim.hours, lim.per, lim.max_messages) for lim in fold.limits] == [
        (24, "topic", 3),
        (168, "brand", 10),
    ]
    assert rules.fold("US", "", "sms", "marketing").window == (480, 1260)
    assert rules.fold("US", "FL", "sms", "transactional") == Fold()


BAD = [
    (rule(jurisdiction="US-TX"), "rule 1 ('r1'): jurisdiction 'US-TX' is not a [[jurisdiction]]"),
    (rule(start="21:00", end="08:00"), "rule 1 ('r1'): end the window ends (08:00) before it"),
    (rule(start="08:00", end="08:00"), "the window ends (08:00) before it starts (08:00)"),
    (rule(source=""), "rule 1 ('r1'): source"),
    (rule(source=None), "rule 1 ('r1'): source is missing"),
    (rule(colour="red"), "rule 1 ('r1'): colour is not a field"),
    (rule(channel="fax"), "rule 1 ('r1'): channel must be"),
    (rule(kind="frequency"), "rule 1 ('r1'): max is needed by a frequency rule"),
    (rule(consent="express"), "consent belongs to a consent rule, not a window rule"),
    (rule(start="8am"), "rule 1 ('r1'): start has the wrong form ('8am')"),
    (rule() + rule(), "rule 2 ('r1'): id is used twice"),
    (
        rule(id="a", start="08:00", end="12:00") + rule(id="b", start="13:00", end="20:00"),
        "rules a, b leave no time to send marketing sms at US",
    ),
    ("[[rule]\n", "is not valid TOML"),
    ("[[law]]\nx = 1\n", "unknown section(s) law"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_a_bad_file_is_refused_naming_the_row(text: str, message: str) -> None:
    with pytest.raises(RulesFileError) as caught:
        parse(HEAD + text if text.startswith("\n[[rule") else text, "rules.toml")
    assert message in caught.value.detail
    assert caught.value.detail.startswith("rules.toml")


def test_a_bad_jurisdiction_row_is_named() -> None:
    with pytest.raises(RulesFileError, match=r"jurisdiction 1 \('Florida'\): code"):
        parse('[[jurisdiction]]\ncode = "Florida"\nname = "F"\nplaces = ["US-FL"]\n')
    with pytest.raises(RulesFileError, match=r"places \(item 1\) has the wrong form"):
        parse('[[jurisdiction]]\ncode = "FL"\nname = "F"\nplaces = ["Florida"]\n')


def test_loading_replaces_the_rules_and_a_bad_file_changes_nothing(
    session: Session, tmp_path: Path
) -> None:
    shipped = service.rules(session)
    assert shipped == read()  # the migration loaded the shipped file
    good = tmp_path / "good.toml"
    good.write_text(HEAD + rule(id="only-one"))
    service.load_file(session, good)
    assert [r.id for r in service.rules(session).rules] == ["only-one"]
    bad = tmp_path / "bad.toml"
    bad.write_text(HEAD + rule(id="fine") + rule(id="wrong", jurisdiction="XX"))
    with pytest.raises(RulesFileError, match="rule 2"):
        service.load_file(session, bad)
    assert [r.id for r in service.rules(session).rules] == ["only-one"]
    service.load_file(session)
    assert service.rules(session) == shipped
    assert session.scalar(select(func.count()).select_from(LegalRule)) == len(shipped.rules)


def test_the_commands_check_load_and_list(tmp_path: Path, engine: object) -> None:
    from tests.databases import fresh_sqlite_url

    runner = CliRunner()
    url = fresh_sqlite_url(tmp_path, "compliance")
    env = {"ACCORD_DATABASE_URL": url, "ACCORD_VAR_DIR": str(tmp_path / "var")}
    assert runner.invoke(build(), ["db", "upgrade"], env=env).exit_code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(HEAD + rule(start="22:00", end="07:00"))
    result = runner.invoke(build(), ["compliance", "check", str(bad)], env=env)
    assert result.exit_code == 1 and "the window ends (07:00) before it starts" in result.output
    result = runner.invoke(build(), ["compliance", "load", str(bad)], env=env)
    assert result.exit_code == 1
    listed = runner.invoke(build(), ["compliance", "rules"], env=env)
    assert listed.exit_code == 0 and "us-fl-hours" in listed.output
    good = tmp_path / "good.toml"
    good.write_text(HEAD + rule(id="mine"))
    assert runner.invoke(build(), ["compliance", "check", str(good)], env=env).exit_code == 0
    assert runner.invoke(build(), ["compliance", "load", str(good)], env=env).exit_code == 0
    listed = runner.invoke(build(), ["compliance", "rules"], env=env)
    assert "mine" in listed.output and "us-fl-hours" not in listed.output
