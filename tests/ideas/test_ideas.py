"""Ideas boards: one vote per person (withdrawable), the board and relationship rules, a
status change told to every voter on their transactional channel in one statement, the webhook
events, and votes as a signal only for people who granted profiling."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.core.errors import Conflict, InvalidInput
from accord.core.settings import Settings
from accord.ideas import service
from accord.ideas.models import Idea, IdeaVote
from accord.outbox.models import OutboxMessage
from accord.relationships import decisions
from accord.relationships.vocabulary import Channel, Purpose
from accord.webhooks import service as webhooks
from accord.webhooks.models import WebhookEvent
from tests.builders import make_brand, make_person
from tests.ideas import a_board


def votes(session: Session, idea: Idea) -> int:
    return service.vote_counts(session, [idea.id]).get(idea.id, 0)


def test_one_vote_per_person_withdrawable(session: Session) -> None:
    b = a_board(session)
    author, other, _ = b.people
    idea = service.propose(
        session, author.id, b.board, title="  Stock  more  jazz ", body="Blue Note"
    )
    assert idea.title == "Stock more jazz" and votes(session, idea) == 1  # the author's vote
    with pytest.raises(Conflict, match="one vote each"):
        service.vote(session, author.id, idea)
    service.vote(session, other.id, idea)
    with pytest.raises(Conflict, match="already"):
        service.vote(session, other.id, idea)
    assert votes(session, idea) == 2
    assert service.withdraw_vote(session, other.id, idea)
    assert not service.withdraw_vote(session, other.id, idea)
    service.vote(session, other.id, idea)
    assert votes(session, idea) == 2


def test_who_may_take_part_and_what_a_board_takes(session: Session) -> None:
    b = a_board(session)
    stranger = make_person(session)
    with pytest.raises(Conflict, match="Follow"):
        service.propose(session, stranger.id, b.board, title="Hi")
    idea = service.propose(session, b.people[0].id, b.board, title="Vinyl cleaning kits")
    with pytest.raises(Conflict, match="Follow"):
        service.vote(session, stranger.id, idea)
    with pytest.raises(Conflict, match="Follow"):
        service.comment(session, idea, "me too", person_id=stranger.id)
    with pytest.raises(InvalidInput):
        service.propose(session, b.people[0].id, b.board, title="   ")
    with pytest.raises(InvalidInput):
        service.comment(session, idea, " ", person_id=b.people[1].id)
    ended = b.people[2]
    decisions.end(session, decisions.get(session, ended.id, b.brand.id), decisions.PORTAL)
    with pytest.raises(Conflict):
        service.vote(session, ended.id, idea)
    service.set_board_status(session, b.board, "closed")
    with pytest.raises(Conflict, match="closed"):
        service.propose(session, b.people[0].id, b.board, title="Another")
    service.vote(session, b.people[1].id, idea)  # votes still count on a closed board
    count = session.scalar(select(func.count()).select_from(Idea))
    assert count == 1


def test_a_status_change_is_told_to_every_voter_once(session: Session, settings: Settings) -> None:
    b = a_board(session, people=4)
    author, voter, sms_voter, bystander = b.people
    rel = decisions.get(session, sms_voter.id, b.brand.id)
    decisions.set_channel(session, rel, Purpose.transactional, Channel.sms, True, decisions.PORTAL)
    idea = service.propose(session, author.id, b.board, title="Open on Sundays")
    service.vote(session, voter.id, idea)
    service.vote(session, sms_voter.id, idea)
    service.propose(session, bystander.id, b.board, title="Something else")

    change = service.set_status(
        session, settings, idea, "shipped", reply="Open 10-16 from May.", member_id=b.member.id
    )
    rows = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.idempotency_key.startswith(f"idea:{change.id.hex}:")
        )
    ).all()
    got = sorted((r.person_id, r.channel) for r in rows)
    expected = sorted(
        [(author.id, "email"), (voter.id, "email"), (sms_voter.id, "email"), (sms_voter.id, "sms")]
    )
    assert got == expected
    assert all(r.purpose == "transactional" and r.state == "queued" for r in rows)
    email = next(r for r in rows if r.channel == "email")
    assert email.payload is not None and "Open 10-16 from May." in email.payload["text"]
    sms = next(r for r in rows if r.channel == "sms")
    assert sms.payload is not None and len(sms.payload["text"]) < 200
    assert idea.status == "shipped" and idea.reply == "Open 10-16 from May."
    assert [h.status for h in service.history(session, idea)] == ["shipped"]
    with pytest.raises(Conflict, match="takes no more votes"):
        service.vote(session, bystander.id, idea)
    with pytest.raises(Conflict, match="already"):
        service.set_status(
            session, settings, idea, "shipped", reply="Open 10-16 from May.", member_id=None
        )
    with pytest.raises(InvalidInput, match="status"):
        service.set_status(session, settings, idea, "new", reply=None, member_id=None)


def test_webhook_events(session: Session, settings: Settings) -> None:
    b = a_board(session)
    webhooks.create_endpoint(
        session,
        settings,
        b.brand.id,
        url="http://127.0.0.1:9/hook",
        event_types=["idea.created", "idea.status_changed"],
    )
    idea = service.propose(session, b.people[0].id, b.board, title="Listening booths")
    service.vote(session, b.people[1].id, idea)
    service.set_status(session, settings, idea, "planned", reply=None, member_id=None)
    events = session.scalars(select(WebhookEvent).order_by(WebhookEvent.created_at)).all()
    assert [e.type for e in events] == ["idea.created", "idea.status_changed"]
    assert events[0].payload["data"]["title"] == "Listening booths"
    assert events[1].payload["data"] | {} == {
        "idea_id": str(idea.id),
        "board_id": str(b.board.id),
        "person_id": str(b.people[0].id),
        "title": "Listening booths",
        "status": "planned",
        "reply": None,
        "votes": 2,
    }


def test_votes_are_a_signal_only_with_profiling(session: Session) -> None:
    b = a_board(session, people=3)
    profiled, plain, _ = b.people
    rel = decisions.get(session, profiled.id, b.brand.id)
    decisions.set_purpose(session, rel, Purpose.profiling, True, decisions.PORTAL)
    idea = service.propose(session, plain.id, b.board, title="Gift cards")
    service.vote(session, profiled.id, idea)
    signal = service.vote_signal(session, b.brand.id, idea.id)
    assert (signal.votes, signal.profiled) == (2, 1)
    assert service.segment_people(session, b.brand.id, idea.id) == [profiled.id]
    assert service.segment_people(session, make_brand(session).id, idea.id) == []
    decisions.set_purpose(session, rel, Purpose.profiling, False, decisions.PORTAL)
    assert service.segment_people(session, b.brand.id, idea.id) == []
    assert session.scalar(select(func.count()).select_from(IdeaVote)) == 2


def test_a_campaign_can_go_to_the_voted_for_segment(session: Session) -> None:
    from accord.campaigns import service as campaigns
    from accord.campaigns.schemas import Audience, CampaignCreate
    from accord.core.errors import InvalidInput
    from tests.builders import make_topic

    b = a_board(session, people=3)
    profiled, plain, _ = b.people
    rel = decisions.get(session, profiled.id, b.brand.id)
    decisions.set_purpose(session, rel, Purpose.profiling, True, decisions.PORTAL)
    idea = service.propose(session, plain.id, b.board, title="Gift cards")
    service.vote(session, profiled.id, idea)
    topic = make_topic(session, brand=b.brand)
    data = CampaignCreate(
        name="Gift cards are here",
        topic_id=topic.id,
        subject="Gift cards",
        text="You asked for them.",
        audience=Audience(kind="idea_voters", idea_id=idea.id),
    )
    campaign = campaigns.create(session, b.brand.id, data, member_id=None)
    assert campaigns.preview(session, campaign).total == 1  # the profiled voter only
    elsewhere = a_board(session, people=1)
    other = service.propose(session, elsewhere.people[0].id, elsewhere.board, title="Theirs")
    with pytest.raises(InvalidInput, match="No such idea"):
        campaigns.create(
            session,
            b.brand.id,
            data.model_copy(update={"audience": Audience(kind="idea_voters", idea_id=other.id)}),
            member_id=None,
        )
