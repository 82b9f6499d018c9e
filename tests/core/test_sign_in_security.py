"""Accounts and sessions: sessions end on the server (copied cookies too), password sign-in is
throttled per account and per IP, sign-in links are limited per IP and for the instance, API
keys do not open console pages, and sign-in answers wait for the same floor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accord.app import create_app
from accord.core import throttle
from accord.core.auth_models import SignInThrottle
from accord.core.db import utcnow
from accord.core.settings import Settings
from accord.core.web.timing import equal_time
from tests.builders import PASSWORD, make_api_key, make_brand, make_member, make_person
from tests.conftest import RolledBackDatabase
from tests.helpers import csrf_of, sign_in_member, sign_in_person

HTML = {"accept": "text/html"}


def copy_of(client: TestClient, app: FastAPI) -> TestClient:
    """Another client holding the same session cookie: a stolen or copied cookie."""
    other = TestClient(app)
    other.cookies.set("accord_session", client.cookies["accord_session"])
    return other


def test_signing_out_ends_a_copied_cookie_too(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    make_person(session, email="copy@example.com")
    sign_in_person(client, session, "copy@example.com")
    thief = copy_of(client, app)
    assert thief.get("/api/v1/me").status_code == 200
    form = {"csrf_token": csrf_of(client, "/home")}
    assert client.post("/signout", data=form, follow_redirects=False).status_code == 303
    assert client.get("/api/v1/me").status_code == 401
    assert thief.get("/api/v1/me").status_code == 401


def test_sign_out_everywhere_ends_every_session_of_the_person(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    make_person(session, email="everywhere@example.com")
    sign_in_person(client, session, "everywhere@example.com")
    laptop = TestClient(app)
    sign_in_person(laptop, session, "everywhere@example.com")
    form = {"csrf_token": csrf_of(client, "/profile")}
    done = client.post("/signout-everywhere", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert laptop.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_a_password_change_ends_the_members_other_sessions(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    member = make_member(session, brand=brand)
    sign_in_member(client, member.email, PASSWORD)
    phone = TestClient(app)
    sign_in_member(phone, member.email, PASSWORD)
    copied = copy_of(phone, app)
    form = {
        "csrf_token": csrf_of(client, "/console/account"),
        "current_password": PASSWORD,
        "password": "a brand new passphrase",
    }
    changed = client.post("/console/account/password", data=form, follow_redirects=False)
    assert changed.status_code == 303, changed.text
    assert client.get("/api/v1/brand").status_code == 200  # this session goes on
    assert phone.get("/api/v1/brand").status_code == 401
    assert copied.get("/api/v1/brand").status_code == 401
    fresh = TestClient(app)
    sign_in_member(fresh, member.email, "a brand new passphrase")


def test_a_wrong_current_password_changes_nothing(client: TestClient, session: Session) -> None:
    member = make_member(session, brand=make_brand(session))
    sign_in_member(client, member.email, PASSWORD)
    form = {
        "csrf_token": csrf_of(client, "/console/account"),
        "current_password": "not the password",
        "password": "a brand new passphrase",
    }
    refused = client.post("/console/account/password", data=form, headers=HTML)
    assert refused.status_code == 422
    assert "current password is wrong" in refused.text


def _password_try(client: TestClient, email: str, password: str) -> int:
    form = {"email": email, "password": password, "csrf_token": csrf_of(client, "/console/signin")}
    return client.post("/console/signin", data=form, follow_redirects=False).status_code


def test_wrong_passwords_back_off_and_then_even_the_right_one_waits(
    client: TestClient, session: Session, settings: Settings
) -> None:
    member = make_member(session, brand=make_brand(session))
    free = settings.sign_in_failures_per_account
    for _ in range(free - 1):
        assert _password_try(client, member.email, "wrong guess!") == 422
    assert _password_try(client, member.email, "wrong guess!") == 422  # the one that starts it
    key = throttle.account_key(settings, member.email)
    row = session.scalars(select(SignInThrottle).where(SignInThrottle.key == key)).one()
    assert row.failures == free and row.blocked_until is not None
    assert row.blocked_until - row.last_failure_at == timedelta(seconds=1)
    # While it waits (held a minute here, so that a slow machine cannot outlast the 1 s wait),
    # every try waits, the right password too, without being checked.
    session.execute(update(SignInThrottle).values(blocked_until=utcnow() + timedelta(minutes=1)))
    assert _password_try(client, member.email, PASSWORD) == 429
    # Time passes (the row says so): the next wrong try doubles the wait.
    session.execute(update(SignInThrottle).values(blocked_until=utcnow() - timedelta(seconds=1)))
    assert _password_try(client, member.email, "wrong again!") == 422
    session.refresh(row)
    assert row.failures == free + 1
    assert row.blocked_until is not None
    assert row.blocked_until - row.last_failure_at == timedelta(seconds=2)
    session.execute(update(SignInThrottle).values(blocked_until=None))
    assert _password_try(client, member.email, PASSWORD) == 303
    session.expire_all()
    assert session.get(SignInThrottle, key) is None  # a success forgets the account's failures


def _hold_waits(session: Session) -> None:
    """Keep every wait going for a minute: a slow machine must not outlast a 1 s wait."""
    held = update(SignInThrottle).where(SignInThrottle.blocked_until.is_not(None))
    session.execute(held.values(blocked_until=utcnow() + timedelta(minutes=1)))


def test_unknown_accounts_are_throttled_alike(
    client: TestClient, session: Session, settings: Settings
) -> None:
    for _ in range(settings.sign_in_failures_per_account):
        assert _password_try(client, "nobody@example.com", "wrong guess!") == 422
    _hold_waits(session)
    assert _password_try(client, "nobody@example.com", "wrong guess!") == 429


def test_one_ip_guessing_many_accounts_is_throttled(
    settings: Settings, database: RolledBackDatabase, session: Session
) -> None:
    strict = settings.model_copy(update={"sign_in_failures_per_ip": 3})
    member = make_member(session, brand=make_brand(session))
    with TestClient(create_app(strict, database=database)) as client:
        for n in range(3):
            assert _password_try(client, f"guess{n}@example.com", "wrong guess!") == 422
        _hold_waits(session)
        assert _password_try(client, member.email, PASSWORD) == 429


def test_wait_grows_exponentially_and_is_capped() -> None:
    waits = [throttle.wait_after(n, 5).total_seconds() for n in range(4, 20)]
    assert waits[:4] == [0, 1, 2, 4]
    assert waits == sorted(waits) and waits[-1] == throttle.LONGEST_WAIT.total_seconds()


def test_sign_in_links_are_limited_per_ip_and_for_the_instance(
    settings: Settings, database: RolledBackDatabase
) -> None:
    per_ip = settings.model_copy(update={"magic_link_per_ip_per_hour": 3})
    with TestClient(create_app(per_ip, database=database)) as client:
        for n in range(3):
            sent = client.post("/api/v1/auth/sign-in-links", json={"email": f"ip{n}@example.com"})
            assert sent.status_code == 202
        refused = client.post("/api/v1/auth/sign-in-links", json={"email": "ip9@example.com"})
        assert refused.status_code == 429 and refused.json()["error"] == "RateLimited"
        assert int(refused.headers["retry-after"]) > 0
    instance = settings.model_copy(update={"magic_link_global_per_hour": 2})
    with TestClient(create_app(instance, database=database)) as client:
        # Three links were recorded above (rolled back only at the test's end): over the limit.
        refused = client.post("/api/v1/people", json={"email": "global@example.com"})
        assert refused.status_code == 429


def test_an_api_key_does_not_open_console_pages(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, secret = make_api_key(session, brand=brand)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/brand", headers=bearer).status_code == 200
    page = client.get("/console", headers={**bearer, **HTML}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/console/signin")
    api_keys = client.get("/console/api-keys", headers=bearer, follow_redirects=False)
    assert api_keys.status_code == 401


def test_sign_in_link_and_sign_up_answers_wait_for_the_same_floor(app: FastAPI) -> None:
    """Known and unknown addresses take one path through the same padding (its length is a
    setting; tests do not measure time)."""
    padded = {
        (method, route.path)
        for route in _api_routes(app.routes)
        for method in route.methods or ()
        if any(d.call is equal_time for d in route.dependant.dependencies)
    }
    assert {
        ("POST", "/people"),  # under /api/v1
        ("POST", "/auth/sign-in-links"),  # under /api/v1
        ("POST", "/signup"),
        ("POST", "/signin"),
        ("POST", "/console/signin/link"),
    } <= padded


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, also inside included routers (paths without the include's prefix)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes)
    return found
