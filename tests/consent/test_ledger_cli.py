"""`accord ledger verify` on a real database: exit 0 when intact, 1 naming the broken link."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from accord.cli import build
from accord.consent import ledger
from accord.consent.models import LedgerEvent
from accord.core import migrate
from accord.core.db import Database
from accord.relationships import decisions
from accord.relationships.decisions import PORTAL
from accord.relationships.vocabulary import Purpose
from tests.builders import make_brand, make_person
from tests.databases import fresh_engine


def test_verify_reports_intact_and_broken_chains(tmp_path: Path, backend: str) -> None:
    engine = fresh_engine(backend, tmp_path, "ledgercli")
    try:
        migrate.upgrade(engine)
        db = Database(engine)
        with db.transaction() as session:
            brand = make_brand(session)
            people = [make_person(session) for _ in range(3)]
            for person in people:
                rel = decisions.start(session, person.id, brand.id, PORTAL)
                decisions.set_purpose(session, rel, Purpose.marketing, True, PORTAL)
                decisions.set_purpose(session, rel, Purpose.marketing, False, PORTAL)
            victim = ledger.events_for(session, people[1].id)[1]
        env = {"ACCORD_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
        ok = CliRunner().invoke(build(), ["ledger", "verify"], env=env)
        assert ok.exit_code == 0 and "9 events" in ok.output
        with db.transaction() as session:
            session.execute(
                update(LedgerEvent)
                .where(LedgerEvent.id == victim.id)
                .values(body=victim.body.replace("grant", "grunt"))
            )
        broken = CliRunner().invoke(build(), ["ledger", "verify"], env=env)
        assert broken.exit_code == 1
        assert str(people[1].id) in broken.output and "1 broken chain" in broken.output
        one = CliRunner().invoke(
            build(), ["ledger", "verify", "--person", str(people[0].id)], env=env
        )
        assert one.exit_code == 0 and "3 events" in one.output
    finally:
        engine.dispose()
