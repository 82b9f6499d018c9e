"""`accord demo`'s preparation: migrate, seed, print how to sign in (the root serves)."""

from __future__ import annotations

from rich.panel import Panel

from accord.core import migrate
from accord.core.cli_helpers import console
from accord.core.db import Database
from accord.core.settings import Settings
from accord.delivery.service import Worker
from accord.demo import data
from accord.demo.seed import seed


def prepare(settings: Settings) -> None:
    """Migrate the database, load the demo data (safe to run again), say how to sign in."""
    db = Database.from_settings(settings)
    migrate.upgrade(db.engine)
    with db.transaction() as session:
        report = seed(session, settings)
    # The demo's sent campaigns go out through the real worker, into the dev mailbox.
    delivered = Worker(db, settings).run_until_idle()
    console.print(
        f"Demo data: {report.brands_created} brands, {report.members_created} members, "
        f"{report.people_created} people added, {report.relationships_seeded} given relationships, "
        f"{report.campaigns_seeded} campaigns, {report.threads_seeded} conversations, "
        f"{report.ideas_seeded} ideas (0 means they were there already); "
        f"{delivered.sent} messages delivered, {delivered.skipped} kept back by the gate."
    )
    if report.agreements_seeded:
        console.print(
            f"Terms and intents: {report.agreements_seeded} personal agreements signed (one "
            "declined, one answered with an alternative); an open intent with three offers and "
            "a closed one (see /terms and /intents as a person, Terms and Intents in the console)."
        )
    analytics = report.analytics
    if analytics is not None and not analytics.note:
        console.print(
            f"Analytics: {analytics.imported:,} CDNOW purchases imported for Groove Records, "
            f"{analytics.linked} demo people linked to CDNOW customers, "
            + (
                f"a BG/NBD + Gamma-Gamma fit at 1997-09-30 with {analytics.scored} scores."
                if analytics.fitted
                else "the existing fit kept."
            )
        )
    base = settings.base_url
    console.print(
        Panel.fit(
            f"Accord is at [bold]{base}/[/]\n\n"
            f"[bold]As a person:[/] open {base}/signin, enter [cyan]ada@people.example[/]\n"
            f"  (or any of {len(data.FIRST_NAMES)} people: bea@, carlos@ … @people.example),\n"
            f"  then open the link from the dev mailbox at {base}/dev/mailbox\n\n"
            f"[bold]As a brand member:[/] open {base}/console/signin with\n"
            f"  [cyan]owner@groove.example[/] / [cyan]{data.DEMO_PASSWORD}[/]\n"
            f"  (also owner@velo.example, owner@fernwood.example; marketing@… for marketers,\n"
            f"  insights@groove.example for analytics at {base}/console/analytics)\n\n"
            f"API docs: {base}/api/docs",
            title="Accord demo",
        )
    )
