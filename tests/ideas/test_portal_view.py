"""The person's board and idea pages read their columns on the cursor (`ideas.portal_view`):
what they read is what the service's ORM reads give, for every status filter and reader."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from accord.core.errors import InvalidInput, NotFound
from accord.core.settings import Settings
from accord.ideas import portal_view as view
from accord.ideas import service
from accord.ideas.models import STATUSES
from tests.builders import make_person
from tests.ideas import a_board


def test_the_board_and_its_ideas_read_as_the_service_reads_them(
    session: Session, settings: Settings
) -> None:
    b = a_board(session, people=3)
    author, voter, reader = b.people
    first = service.propose(session, author.id, b.board, title="Stock more jazz")
    second = service.propose(session, voter.id, b.board, title="Open on Sundays")
    third = service.propose(session, author.id, b.board, title="Listening booth")
    service.vote(session, voter.id, first)
    service.vote(session, reader.id, third)
    service.set_status(
        session,
        settings,
        second,
        "planned",
        reply="From March, " + "x" * 200,
        member_id=b.member.id,
    )
    service.set_status(session, settings, third, "shipped", reply=None, member_id=b.member.id)
    session.flush()

    board, brand = view.board(session, b.board.id)
    assert (board.id, board.title, board.description, board.status) == (
        b.board.id,
        b.board.title,
        b.board.description,
        b.board.status,
    )
    assert brand == (b.brand.id, b.brand.name)
    for person in (author, voter, reader, make_person(session)):
        for status in (None, *STATUSES):
            expected = [
                (i.idea.id, i.idea.title, i.idea.reply, i.idea.status, i.votes, i.voted)
                for i in service.ideas_of(session, b.board, person_id=person.id, status=status)
            ]
            found = view.listed(session, b.board.id, b.brand.id, person.id, status)
            assert [tuple(row) for row in found] == expected, (person, status)
    with pytest.raises(InvalidInput):
        view.listed(session, b.board.id, b.brand.id, author.id, "done")


def test_an_idea_reads_as_the_service_reads_it(session: Session, settings: Settings) -> None:
    b = a_board(session, people=2)
    author, voter = b.people
    idea = service.propose(session, author.id, b.board, title="Vinyl cleaning kits", body="Yes")
    service.comment(session, idea, "me too", person_id=voter.id)
    service.comment(session, idea, "Noted.", member_id=b.member.id)
    service.set_status(session, settings, idea, "planned", reply="Soon.", member_id=b.member.id)
    session.flush()

    for person, voted in ((author, True), (voter, False)):
        row = view.idea(session, idea.id, person.id)
        assert (row.id, row.title, row.body, row.status, row.reply, row.created_at) == (
            idea.id,
            idea.title,
            idea.body,
            idea.status,
            idea.reply,
            idea.created_at,
        )
        assert (row.person_id, row.board_id, row.board_title) == (
            author.id,
            b.board.id,
            b.board.title,
        )
        assert (row.brand_id, row.brand_name) == (b.brand.id, b.brand.name)
        assert row.votes == service.vote_counts(session, [idea.id])[idea.id] == 1
        assert bool(row.voted) is voted is service.has_voted(session, idea.id, person.id)
    comments = [
        (c.person_id, c.member_id, c.body, c.created_at) for c in service.comments(session, idea)
    ]
    assert [tuple(c) for c in view.comments(session, idea.id)] == comments
    history = [(h.status, h.reply, h.created_at) for h in service.history(session, idea)]
    assert [tuple(h) for h in view.history(session, idea.id)] == history and history
    with pytest.raises(NotFound):
        view.idea(session, b.board.id, author.id)
    with pytest.raises(NotFound):
        view.board(session, idea.id)
