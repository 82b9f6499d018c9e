"""The ideas APIs and pages: proposing, voting once, withdrawing, commenting, the brand's
answer; bad input named by field and nothing written; one brand never reaching another's."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.ideas.models import Idea, IdeaComment, IdeaVote
from tests.builders import PASSWORD
from tests.conversations import bearer
from tests.helpers import csrf_of, sign_in_member, sign_in_person
from tests.ideas import a_board

HTML = {"accept": "text/html"}


def count(session: Session, model: type[Idea] | type[IdeaVote] | type[IdeaComment]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_person_api_propose_vote_withdraw_comment(client: TestClient, session: Session) -> None:
    b = a_board(session, people=2)
    session.commit()
    sign_in_person(client, session, b.people[0].email)
    csrf = {"X-CSRF-Token": csrf_of(client, "/relationships")}
    made = client.post(
        f"/api/v1/me/idea-boards/{b.board.id}/ideas",
        json={"title": "More Krautrock", "body": "Can, Neu!"},
        headers=csrf,
    )
    assert made.status_code == 201, made.text
    assert made.json()["votes"] == 1 and made.json()["voted"] and made.json()["mine"]
    idea_id = made.json()["id"]
    again = client.post(f"/api/v1/me/ideas/{idea_id}/vote", headers=csrf)
    assert again.status_code == 409 and again.json()["field"] == "idea_id"
    assert client.delete(f"/api/v1/me/ideas/{idea_id}/vote", headers=csrf).status_code == 204
    assert client.delete(f"/api/v1/me/ideas/{idea_id}/vote", headers=csrf).status_code == 404
    assert client.post(f"/api/v1/me/ideas/{idea_id}/vote", headers=csrf).status_code == 204
    empty = client.post(
        f"/api/v1/me/idea-boards/{b.board.id}/ideas", json={"title": " "}, headers=csrf
    )
    assert (empty.status_code, empty.json()["field"]) == (422, "title")
    said = client.post(f"/api/v1/me/ideas/{idea_id}/comments", json={"body": "Yes!"}, headers=csrf)
    assert said.status_code == 201 and said.json()["author"] == "person"
    assert (count(session, Idea), count(session, IdeaVote), count(session, IdeaComment)) == (
        1,
        1,
        1,
    )


def test_brand_api_boards_answer_and_segment(client: TestClient, session: Session) -> None:
    b = a_board(session, people=1)
    other = a_board(session, people=0)
    from accord.ideas import service

    idea = service.propose(session, b.people[0].id, b.board, title="Late opening")
    session.commit()
    h = bearer(b.key)
    created = client.post("/api/v1/idea-boards", json={"title": "Events"}, headers=h)
    assert created.status_code == 201
    assert (
        client.post("/api/v1/idea-boards", json={"title": ""}, headers=h).json()["field"] == "title"
    )
    listed = client.get(f"/api/v1/idea-boards/{b.board.id}/ideas", headers=h).json()
    assert [i["title"] for i in listed["items"]] == ["Late opening"] and listed["items"][0][
        "votes"
    ] == 1
    bad = client.post(f"/api/v1/ideas/{idea.id}/status", json={"status": "done"}, headers=h)
    assert (bad.status_code, bad.json()["field"]) == (422, "status")
    ok = client.post(
        f"/api/v1/ideas/{idea.id}/status",
        json={"status": "planned", "reply": "From June."},
        headers=h,
    )
    assert ok.status_code == 200 and ok.json()["status"] == "planned"
    segment = client.get(f"/api/v1/ideas/{idea.id}/voters", headers=h).json()
    assert segment == {"votes": 1, "person_ids": []}  # no profiling granted: a count only
    closed = client.patch(f"/api/v1/idea-boards/{b.board.id}", json={"status": "closed"}, headers=h)
    assert closed.json()["status"] == "closed"
    for method, path in [
        ("GET", f"/api/v1/ideas/{idea.id}"),
        ("POST", f"/api/v1/ideas/{idea.id}/status"),
        ("GET", f"/api/v1/idea-boards/{b.board.id}/ideas"),
    ]:
        r = client.request(method, path, json={"status": "declined"}, headers=bearer(other.key))
        assert r.status_code == 404, (method, path)


def test_pages_person_votes_and_brand_answers(client: TestClient, session: Session) -> None:
    b = a_board(session, people=1, name="Board Records")
    session.commit()
    sign_in_person(client, session, b.people[0].email)
    page = f"/ideas/boards/{b.board.id}"
    assert (
        "Ideas for Board Records" in client.get(f"/relationships/{b.brand.id}", headers=HTML).text
    )
    empty = client.post(
        page, data={"title": " ", "body": "kept", "csrf_token": csrf_of(client, page)}, headers=HTML
    )
    assert (
        empty.status_code == 422
        and 'id="f-title-error"' in empty.text
        and "kept</textarea>" in empty.text
    )
    made = client.post(
        page,
        data={"title": "Listening booth", "body": "", "csrf_token": csrf_of(client, page)},
        headers=HTML,
        follow_redirects=False,
    )
    assert made.status_code == 303
    idea_path = made.headers["location"]
    withdraw = client.post(
        idea_path.replace("/ideas/", "/ideas/", 1) + "/unvote",
        data={"back": page, "csrf_token": csrf_of(client, idea_path)},
        headers=HTML,
        follow_redirects=False,
    )
    assert withdraw.headers["location"] == page
    board = client.get(page, headers=HTML).text
    assert re.search(r'class="votes">0<', board) and "Listening booth" in board
    assert count(session, IdeaVote) == 0

    client.cookies.clear()
    sign_in_member(client, b.member.email, PASSWORD)
    console = idea_path.replace("/ideas/", "/console/ideas/", 1)
    no_status = client.post(
        console + "/status",
        data={"status": "", "reply": "x", "csrf_token": csrf_of(client, console)},
        headers=HTML,
    )
    assert no_status.status_code == 422 and 'id="f-status-error"' in no_status.text
    answered = client.post(
        console + "/status",
        data={
            "status": "in_progress",
            "reply": "Being built.",
            "csrf_token": csrf_of(client, console),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert answered.status_code == 303
    assert "Being built." in client.get(console, headers=HTML).text
