"""The analytics API: batches, fits, equity, holdout, and scores that never leak."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.analytics.models import CustomerScore, ModelFit, Transaction
from accord.analytics.writer import write_records
from accord.brands.models import Brand
from accord.core.permissions import Role
from accord.relationships import decisions
from accord.relationships.vocabulary import Purpose
from tests.analytics.synthetic import CUTOFF, END, START, transactions
from tests.builders import make_api_key, make_brand, make_person, make_relationship

ROW = {"customer": "k1", "time": "2024-05-01T09:30:00Z", "amount": "19.90", "currency": "EUR",
       "order_id": "W-1", "channel": "web"}  # fmt: skip


def bearer(secret: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {secret}"}
    return headers | ({"Idempotency-Key": key} if key else {})


def _count(session: Session, model: Any, brand: Brand) -> int:
    return int(session.scalar(select(func.count()).where(model.brand_id == brand.id)) or 0)


def test_a_batch_stores_good_rows_and_reports_bad_ones_by_index(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    rows = [
        ROW,
        ROW | {"order_id": "W-2", "amount": "-3.00"},
        ROW | {"order_id": "W-3", "currency": "ABC"},
        ROW | {"order_id": "W-4", "amount": "-3.00", "refund": True},
        {"customer": "k2"},
        ROW | {"amount": "25.00"},
        ROW | {"order_id": "W-5", "time": "20240502"},
        ROW | {"order_id": "W-6", "time": 1714550400},
    ]
    response = client.post(
        "/api/v1/analytics/transactions", json={"transactions": rows}, headers=bearer(key, "b1")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["imported"], body["duplicates_skipped"], body["rejected"]) == (3, 0, 5)
    errors = {e["index"]: e for e in body["errors"]}
    assert sorted(errors) == [1, 2, 4, 5, 7]
    assert errors[1]["field"] == "amount" and "refund" in errors[1]["detail"]
    assert errors[2]["field"] == "currency" and "unknown currency" in errors[2]["detail"]
    assert errors[4]["field"] == "time"
    assert "different amount" in errors[5]["detail"]
    assert _count(session, Transaction, brand) == 3

    again = client.post(
        "/api/v1/analytics/transactions", json={"transactions": rows}, headers=bearer(key, "b2")
    ).json()
    assert (again["imported"], again["duplicates_skipped"]) == (0, 3)
    assert _count(session, Transaction, brand) == 3


def test_a_batch_needs_an_idempotency_key_and_the_right_role(
    client: TestClient, session: Session
) -> None:
    brand = make_brand(session)
    _, owner = make_api_key(session, brand=brand)
    _, marketer = make_api_key(session, brand=brand, role=Role.marketer)
    body = {"transactions": [ROW]}
    missing = client.post("/api/v1/analytics/transactions", json=body, headers=bearer(owner))
    assert missing.status_code == 422 and missing.json()["field"] == "Idempotency-Key"
    denied = client.post(
        "/api/v1/analytics/transactions", json=body, headers=bearer(marketer, "m1")
    )
    assert denied.status_code == 403
    too_many = {"transactions": [ROW] * 10_001}
    assert client.post(
        "/api/v1/analytics/transactions", json=too_many, headers=bearer(owner, "big")
    ).status_code in (413, 422)


def test_a_fit_on_three_customers_is_a_clear_422(client: TestClient, session: Session) -> None:
    brand = make_brand(session)
    _, key = make_api_key(session, brand=brand)
    write_records(session, brand.id, transactions(["a", "b", "c"], seed=3))
    response = client.post(
        "/api/v1/analytics/fits", json={"cutoff": CUTOFF.isoformat()}, headers=bearer(key)
    )
    assert response.status_code == 422
    assert "Too little data for a BG/NBD fit" in response.json()["detail"]
    assert _count(session, ModelFit, brand) == 0 and _count(session, CustomerScore, brand) == 0
    assert client.get("/api/v1/analytics/equity", headers=bearer(key)).status_code == 404


def test_fit_equity_holdout_and_scores(client: TestClient, session: Session) -> None:
    brand, other = make_brand(session), make_brand(session)
    _, key = make_api_key(session, brand=brand)
    _, other_key = make_api_key(session, brand=other)
    agreed, refused, stranger = (make_person(session) for _ in range(3))
    rel = make_relationship(session, person=agreed, brand=brand)
    decisions.set_purpose(session, rel, Purpose.profiling, True, decisions.PORTAL)
    make_relationship(session, person=refused, brand=brand, marketing=True)
    names = [agreed.email, refused.email, stranger.email] + [f"c{i}" for i in range(197)]
    write_records(session, brand.id, transactions(names, seed=21))

    request = {"cutoff": CUTOFF.isoformat(), "calibration_start": START.isoformat()}
    created = client.post("/api/v1/analytics/fits", json=request, headers=bearer(key))
    assert created.status_code == 201, created.text
    fit = created.json()
    assert fit["model"] == "bgnbd" and fit["scored"] == 1 and fit["currency"] == "EUR"
    assert set(fit["params"]) == {"r", "alpha", "a", "b"} and fit["spend_params"] is not None
    assert fit["segments"][0]["segment"] == "all"
    read = client.get(f"/api/v1/analytics/fits/{fit['fit_id']}", headers=bearer(key)).json()
    assert read == fit
    assert client.get("/api/v1/analytics/equity", headers=bearer(key)).json() == fit

    held = client.get(
        f"/api/v1/analytics/holdout/{fit['fit_id']}",
        params={"holdout_end": END.isoformat()},
        headers=bearer(key),
    )
    assert held.status_code == 200, held.text
    weeks = held.json()["weeks"]
    assert len(weeks) == 39 and weeks[-1]["actual"] == held.json()["actual"] > 0
    assert all(a["expected"] <= b["expected"] for a, b in itertools.pairwise(weeks))

    def scores(person_id: object, secret: str = key) -> Any:
        return client.get(f"/api/v1/analytics/people/{person_id}/scores", headers=bearer(secret))

    ok = scores(agreed.id)
    assert ok.status_code == 200 and ok.json()["fit_id"] == fit["fit_id"]
    for person, secret in ((refused, key), (stranger, key), (agreed, other_key)):
        response = scores(person.id, secret)
        assert response.status_code == 404 and response.json()["error"] == "NotFound"
        assert "clv" not in response.text
    decisions.set_purpose(session, rel, Purpose.profiling, False, decisions.PORTAL)
    session.flush()
    assert scores(agreed.id).status_code == 404
    assert (
        client.get(f"/api/v1/analytics/fits/{fit['fit_id']}", headers=bearer(other_key)).status_code
        == 404
    )
