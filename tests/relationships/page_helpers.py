"""Steps the portal page tests share: signing in, posting forms with their CSRF token."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from accord.consent import ledger
from accord.people.models import Person
from tests.builders import make_person
from tests.helpers import csrf_of, sign_in_person

HTML = {"accept": "text/html"}


def found(pattern: str, text: str) -> str:
    """The first group of the pattern's first match; the test fails when there is none."""
    match = re.search(pattern, text)
    assert match is not None, f"{pattern!r} not found"
    return match.group(1)


def events(session: Session, person_id: Any) -> list[dict[str, Any]]:
    return [ledger.body_of(e) for e in ledger.events_for(session, person_id)]


def post(client: TestClient, path: str, data: dict[str, str], page: str | None = None) -> Response:
    form = {"csrf_token": csrf_of(client, page or "/home"), **data}
    return client.post(path, data=form, headers=HTML, follow_redirects=False)


def signed_in(client: TestClient, session: Session, **person: Any) -> Person:
    me = make_person(session, **person)
    sign_in_person(client, session, me.email)
    return me


def form_state(client: TestClient, brand_id: Any) -> dict[str, str]:
    """What the relationship form sends when submitted as shown: its hidden fields, the
    ticked boxes and the typed fields."""
    text = client.get(f"/relationships/{brand_id}", headers=HTML).text
    form = text.split('id="preferences"', 1)[1].split("</form>", 1)[0]
    data = {"shown_on": found(r'name="shown_on" value="([^"]*)"', form)}
    for name in re.findall(r'name="([^"]+)" value="on" checked', form):
        data[name] = "on"
    data["brand_cap"] = found(r'name="brand_cap" type="number" value="(\d*)"', form)
    shared = re.search(r'name="shared"[^>]*>([^<]*)</textarea>', form)
    data["shared"] = html.unescape(shared.group(1)) if shared else ""
    return data
