"""`accord analytics import|fit|report` against a real SQLite file and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import build
from tests.analytics.test_clv_cdnow import _cdnow_dir
from tests.databases import fresh_postgres_url, fresh_sqlite_url

runner = CliRunner()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return fresh_postgres_url("analytics_cli")
    return fresh_sqlite_url(tmp_path, "analytics_cli")


def invoke(db_url: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    """Exit code and output with runs of white space made one space (rich wraps lines)."""
    env = {"ACCORD_DATABASE_URL": db_url, "ACCORD_VAR_DIR": str(tmp_path / "var")}
    result = runner.invoke(build(), list(args), env=env)
    return result.exit_code, " ".join(result.output.split())


def test_import_fit_and_report_the_cdnow_sample(db_url: str, tmp_path: Path) -> None:
    assert invoke(db_url, tmp_path, "db", "upgrade")[0] == 0
    code, out = invoke(
        db_url, tmp_path, "brand", "create", "--name", "CDNOW", "--slug", "cdnow",
        "--sender-email", "news@cdnow.example", "--support-email", "help@cdnow.example",
    )  # fmt: skip
    assert code == 0, out
    code, out = invoke(db_url, tmp_path, "analytics", "fit", "--brand", "cdnow", "--cutoff",
                       "1997-09-30")  # fmt: skip
    assert code == 1 and "No customers with purchases up to the cut-off" in out

    sample = _cdnow_dir() / "CDNOW_sample.txt"
    code, out = invoke(db_url, tmp_path, "analytics", "import", str(sample), "--brand", "cdnow",
                       "--format", "cdnow")  # fmt: skip
    assert code == 0, out
    assert "6,919" in out and "Rejected rows" not in out

    code, out = invoke(
        db_url, tmp_path, "analytics", "fit", "--brand", "cdnow", "--cutoff", "1997-09-30",
        "--start", "1997-01-01",
    )  # fmt: skip
    assert code == 0, out
    for figure in ("2,357", "0.2426", "4.4136", "0.7929", "2.4259", "-9582.43", "all"):
        assert figure in out, (figure, out)

    code, out = invoke(db_url, tmp_path, "analytics", "report", "--brand", "cdnow")
    assert code == 0, out
    assert "-9582.43" in out and "Holdout 1997-09-30 to 1998-06-30" in out
    assert "actual 1,882" in out


def test_import_writes_rejects_and_bad_options_fail_cleanly(db_url: str, tmp_path: Path) -> None:
    assert invoke(db_url, tmp_path, "db", "upgrade")[0] == 0
    assert invoke(
        db_url, tmp_path, "brand", "create", "--name", "Shop", "--slug", "shop",
        "--sender-email", "news@shop.example", "--support-email", "help@shop.example",
    )[0] == 0  # fmt: skip
    data = tmp_path / "orders.csv"
    data.write_text("Order,Client,When,Total\n1,a,2024-01-01,5\n2,b,yesterday,5\n")
    rejects = tmp_path / "bad.csv"
    code, out = invoke(
        db_url, tmp_path, "analytics", "import", str(data), "--brand", "shop",
        "--map", "Order=order_id", "--map", "Client=customer", "--map", "When=time",
        "--map", "Total=amount", "--rejects", str(rejects),
    )  # fmt: skip
    assert code == 0, out
    assert str(rejects) in out.replace(" ", "")
    assert "time is not a date" in rejects.read_text()
    code, out = invoke(db_url, tmp_path, "analytics", "import", str(data), "--brand", "shop")
    assert code == 1 and "no column maps to 'customer'" in out
    code, out = invoke(db_url, tmp_path, "analytics", "import", str(data), "--brand", "nope",
                       "--map", "Order")  # fmt: skip
    assert code == 1 and "COLUMN=FIELD" in out
    code, out = invoke(db_url, tmp_path, "analytics", "fit", "--brand", "shop", "--cutoff", "x")
    assert code == 1 and "--cutoff must be a date" in out
    code, out = invoke(db_url, tmp_path, "analytics", "report", "--brand", "shop")
    assert code == 1 and "No fit for shop yet" in out
