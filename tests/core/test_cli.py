"""The CLI against a real SQLite file and PostgreSQL, through ACCORD_DATABASE_URL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import accord
from accord.brands.models import ApiKey, Brand, Member
from accord.cli import build
from accord.core.db import Database, make_engine
from accord.core.security import token_hash
from tests.databases import fresh_postgres_url, fresh_sqlite_url

runner = CliRunner()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return fresh_postgres_url("cli")
    return fresh_sqlite_url(tmp_path, "cli")


def invoke(db_url: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"ACCORD_DATABASE_URL": db_url, "ACCORD_VAR_DIR": str(tmp_path / "var")}
    result = runner.invoke(build(), list(args), env=env)
    return result.exit_code, result.output


def test_version() -> None:
    result = runner.invoke(build(), ["--version"])
    assert result.exit_code == 0 and accord.__version__ in result.output


def test_brand_member_and_key_commands(db_url: str, tmp_path: Path) -> None:
    assert invoke(db_url, tmp_path, "db", "upgrade")[0] == 0
    code, out = invoke(
        db_url, tmp_path, "brand", "create", "--name", "Acme", "--slug", "acme",
        "--sender-email", "news@acme.example", "--support-email", "help@acme.example",
    )  # fmt: skip
    assert code == 0, out
    code, out = invoke(
        db_url, tmp_path, "member", "add", "--brand", "acme", "--email", "boss@acme.example",
        "--role", "owner", "--password", "a-long-enough-password",
    )  # fmt: skip
    assert code == 0, out
    code, out = invoke(db_url, tmp_path, "apikey", "create", "--brand", "acme", "--name", "shop")
    assert code == 0, out
    secret = next(line for line in out.splitlines() if line.startswith("acc_"))
    db = Database(make_engine(db_url))
    with db.session() as session:
        assert session.scalar(select(Brand.name).where(Brand.slug == "acme")) == "Acme"
        assert (
            session.scalar(select(Member.role).where(Member.email == "boss@acme.example"))
            == "owner"
        )
        assert (
            session.scalar(select(ApiKey.name).where(ApiKey.key_hash == token_hash(secret)))
            == "shop"
        )
    db.engine.dispose()


def test_bad_input_gives_a_clear_message_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    invoke(db_url, tmp_path, "db", "upgrade")
    code, out = invoke(
        db_url, tmp_path, "brand", "create", "--name", "Bad", "--slug", "Not A Slug!",
        "--sender-email", "news@bad.example", "--support-email", "help@bad.example",
    )  # fmt: skip
    assert code == 1 and "slug" in out
    code, out = invoke(
        db_url, tmp_path, "member", "add", "--brand", "nope", "--email", "a@b.example"
    )
    assert code == 1 and "No brand with slug 'nope'" in out
    db = Database(make_engine(db_url))
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Brand)) == 0
    db.engine.dispose()


def test_serve_on_an_empty_database_says_to_upgrade(db_url: str, tmp_path: Path) -> None:
    code, out = invoke(db_url, tmp_path, "serve", "--port", "1")
    assert code == 1
    assert "accord db upgrade" in out


COMMANDS = [
    [], ["serve"], ["demo"], ["db"], ["db", "upgrade"], ["db", "downgrade"], ["db", "current"],
    ["brand", "create"], ["member", "add"], ["apikey", "create"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "accord")
def test_every_command_explains_itself(command: list[str]) -> None:
    result = runner.invoke(build(), [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output) > 200


def test_the_installed_entry_point_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "accord", "--version"], capture_output=True, text=True, check=True
    )
    assert accord.__version__ in out.stdout
