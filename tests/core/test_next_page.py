"""After signing in, back to the page asked for: same-site paths only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.core.web.next_page import safe_next
from tests.builders import PASSWORD, make_brand, make_member
from tests.helpers import csrf_of

HTML = {"accept": "text/html"}


@pytest.mark.parametrize(
    "forged",
    [
        "https://evil.example/",
        "//evil.example/console",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/console\r\nSet-Cookie: x=1",
        "evil.example",
        "",
    ],
)
def test_anything_but_a_path_on_this_site_is_refused(forged: str) -> None:
    assert safe_next(forged, "/home") == "/home"


def test_a_path_with_a_query_is_kept() -> None:
    assert safe_next("/console/campaigns?cursor=abc", "/console") == "/console/campaigns?cursor=abc"


def sign_in(client: TestClient, email: str) -> str:
    form = {"email": email, "password": PASSWORD, "csrf_token": csrf_of(client, "/console/signin")}
    done = client.post("/console/signin", data=form, follow_redirects=False)
    assert done.status_code == 303
    return str(done.headers["location"])


def test_a_member_returns_to_the_page_asked_for_and_never_off_site(
    client: TestClient, session: Session
) -> None:
    member = make_member(session, brand=make_brand(session))
    asked = client.get("/console/campaigns?cursor=x", headers=HTML, follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/console/signin?next=/console/campaigns%3Fcursor%3Dx"
    client.get(asked.headers["location"], headers=HTML)
    assert sign_in(client, member.email) == "/console/campaigns?cursor=x"
    client.post("/console/signout", data={"csrf_token": csrf_of(client, "/console")})
    client.get("/console/signin?next=//evil.example/console", headers=HTML)
    assert sign_in(client, member.email) == "/console"
