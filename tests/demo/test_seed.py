"""The demo seed is idempotent and its printed sign-in hints work."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.brands.models import Brand, Member
from accord.campaigns import report as campaign_report
from accord.campaigns.models import Campaign
from accord.consent import verification
from accord.core.settings import Settings
from accord.delivery.worker import Worker
from accord.demo import data
from accord.demo.seed import seed
from accord.outbox.models import OutboxMessage
from accord.people.models import ContactPoint, Person
from accord.relationships import replay
from accord.relationships.models import Relationship, TopicChoice
from tests.conftest import RolledBackDatabase
from tests.helpers import sign_in_member, sign_in_person
from tests.waiting import drain


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Brand, Member, Person, ContactPoint)
    )


def test_seeding_twice_changes_nothing(session: Session, settings: Settings) -> None:
    first = seed(session, settings, analytics=False)
    assert (first.brands_created, first.members_created, first.people_created) == (3, 9, 36)
    after_first = counts(session)
    second = seed(session, settings, analytics=False)
    assert (second.brands_created, second.members_created, second.people_created) == (0, 0, 0)
    assert counts(session) == after_first
    zones = set(session.scalars(select(Person.time_zone)))
    assert len(zones) >= 8
    roles = set(session.scalars(select(Member.role)))
    assert {"owner", "marketer"} <= roles
    assert second.relationships_seeded == 0


def test_the_demo_portal_is_lived_in_and_provable(session: Session, settings: Settings) -> None:
    seed(session, settings, analytics=False)
    states = set(session.scalars(select(Relationship.state)))
    assert states == {"invited", "active", "paused", "ended"}
    indefinite = session.scalar(
        select(func.count()).where(
            Relationship.state == "paused", Relationship.paused_until.is_(None)
        )
    )
    assert indefinite and indefinite > 0
    assert session.scalar(select(func.count()).select_from(TopicChoice))
    assert session.scalar(select(func.count()).where(ContactPoint.channel == "sms"))
    checked, breaks = verification.verify(session)
    assert checked > 100 and breaks == []
    for person_id in session.scalars(select(Person.id)):
        assert replay.replay(session, person_id) == replay.stored(session, person_id)


def test_the_printed_hints_sign_in(
    client: TestClient, session: Session, settings: Settings
) -> None:
    seed(session, settings, analytics=False)
    sign_in_person(client, session, "ada@people.example")
    assert client.get("/api/v1/me").json()["display_name"] == "Ada"
    other = TestClient(client.app)
    sign_in_member(other, "owner@groove.example", data.DEMO_PASSWORD)
    assert "Groove Records" in other.get("/console", headers={"accept": "text/html"}).text


def test_the_demo_campaigns_are_sent_scheduled_and_drafted_once(
    session: Session, database: RolledBackDatabase, settings: Settings
) -> None:
    first = seed(session, settings, analytics=False)
    assert first.campaigns_seeded == 9
    session.commit()
    delivered = drain(Worker(database, settings))
    assert delivered.sent > 0 and delivered.failed == 0
    session.expire_all()
    for brand in session.scalars(select(Brand)):
        states = sorted(
            session.scalars(select(Campaign.state).where(Campaign.brand_id == brand.id))
        )
        assert states == ["done", "draft", "scheduled"], (brand.slug, states)
        sent = session.scalars(
            select(Campaign).where(Campaign.brand_id == brand.id, Campaign.state == "done")
        ).one()
        built = campaign_report.build(session, sent)
        assert built.audience["eligible"] > 0
        assert len([r for r in built.audience if r != "eligible"]) >= 2  # kept out, by reason
        assert built.states["sent"] == built.audience["eligible"]
        assert set(built.rates) >= {"unsubscribed_rate", "bounced_rate"}
    transactional = session.scalar(
        select(func.count()).where(
            OutboxMessage.campaign_id.is_(None),
            OutboxMessage.state == "sent",
            OutboxMessage.idempotency_key.startswith("m:"),  # the messages API's
        )
    )
    assert transactional == 2
    told = session.scalar(  # the brands' answers in conversations and on the ideas board
        select(func.count()).where(
            OutboxMessage.state == "sent",
            OutboxMessage.idempotency_key.startswith("conv:")
            | OutboxMessage.idempotency_key.startswith("idea:"),
        )
    )
    assert told and told > 5
    outbox = session.scalar(select(func.count()).select_from(OutboxMessage))
    campaigns = session.scalar(select(func.count()).select_from(Campaign))
    second = seed(session, settings, analytics=False)
    assert second.campaigns_seeded == 0
    assert session.scalar(select(func.count()).select_from(Campaign)) == campaigns == 9
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == outbox


def test_the_demo_has_conversations_and_an_ideas_board(
    session: Session, settings: Settings
) -> None:
    from accord.conversations.models import Message, Thread
    from accord.ideas import service as ideas
    from accord.ideas.models import Idea

    first = seed(session, settings, analytics=False)
    assert (first.threads_seeded, first.ideas_seeded) == (4, 4)
    statuses = set(session.scalars(select(Thread.status)))
    assert statuses == {"open", "closed"}
    vias = set(session.scalars(select(Message.via)))
    assert {"portal", "console", "email"} <= vias
    by_email = session.scalars(select(Message).where(Message.via == "email")).first()
    assert by_email is not None and ">" not in by_email.body and by_email.original
    board = ideas.boards(
        session, session.scalars(select(Brand.id).where(Brand.slug == "groove")).one()
    )
    shipped = session.scalars(select(Idea).where(Idea.status == "shipped")).one()
    assert shipped.board_id == board[0].id
    assert ideas.vote_counts(session, [shipped.id])[shipped.id] > 3
    second = seed(session, settings, analytics=False)
    assert (second.threads_seeded, second.ideas_seeded) == (0, 0)
