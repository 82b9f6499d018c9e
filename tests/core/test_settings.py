"""Settings: ACCORD_ prefix, defaults, a secret key generated once and kept under var/."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.core.settings import EmailBackend, Environment, Settings


def test_defaults_point_at_the_embedded_sqlite_file(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path.as_posix()}/accord.db"
    assert settings.email_backend is EmailBackend.dev
    assert settings.environment is Environment.dev


def test_environment_variables_use_the_accord_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ACCORD_DATABASE_URL", "postgresql://postgres@127.0.0.1/x")
    monkeypatch.setenv("ACCORD_EMAIL_BACKEND", "smtp")
    monkeypatch.setenv("ACCORD_SMTP_PORT", "2525")
    monkeypatch.setenv("ACCORD_ENVIRONMENT", "prod")
    monkeypatch.setenv("ACCORD_BASE_URL", "https://accord.example/")
    settings = Settings(var_dir=tmp_path)
    assert settings.resolved_database_url() == "postgresql://postgres@127.0.0.1/x"
    assert settings.email_backend is EmailBackend.smtp and settings.smtp_port == 2525
    assert not settings.is_dev
    assert settings.base_url == "https://accord.example" and settings.secure_cookies


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(var_dir=tmp_path).resolved_secret_key()
    second = Settings(var_dir=tmp_path).resolved_secret_key()
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert Settings(var_dir=tmp_path, secret_key="given").resolved_secret_key() == "given"  # type: ignore[arg-type]


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_EMAIL_BACKEND", "carrier-pigeon")
    with pytest.raises(ValueError, match="email_backend"):
        Settings()


def test_the_dev_mailbox_exists_only_in_dev(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from accord.app import create_app
    from accord.core import migrate
    from accord.core.db import Database

    url = f"sqlite:///{tmp_path}/m.db"
    database = Database.from_settings(Settings(var_dir=tmp_path, database_url=url))
    migrate.upgrade(database.engine)
    for environment, status in ((Environment.dev, 200), (Environment.prod, 404)):
        settings = Settings(var_dir=tmp_path, environment=environment, database_url=url)
        with TestClient(create_app(settings, database=database)) as client:
            page = client.get("/dev/mailbox", headers={"accept": "text/html"})
            assert page.status_code == status, environment
    database.engine.dispose()
