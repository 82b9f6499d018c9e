"""Open and click tracking, only with consent: a message carries an open pixel and click
redirects only when the person granted `profiling` to the brand and no personal term in force
forbids tracking (`no_tracking`); otherwise its links go straight to their targets.

A click redirect names its target inside a token signed with the instance's secret, so the
redirect goes only to a link Accord itself put in a message (no open redirect): a forged or
altered token is a 404, never a redirect. Opens and clicks are recorded as delivery events
(campaign reports count them; the person sees them on their relationship page)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Uuid, and_, bindparam, func, literal, select
from sqlalchemy.orm import Session

from accord.core.db import utcnow
from accord.core.direct import Direct
from accord.core.errors import NotFound
from accord.outbox.models import DeliveryEvent, OutboxMessage
from accord.relationships import service as relationships
from accord.relationships.models import PurposeGrant
from accord.relationships.vocabulary import GrantStatus, Purpose
from accord.terms import service as terms
from accord.terms.vocabulary import Effect

SALT = "accord.delivery.tracking"
OPEN, CLICK = "opened", "clicked"
# Links in text (URLs) and in HTML (href values); unsubscribe links are never rewritten.
TEXT_URL = re.compile(r"https?://[^\s<>\"')\]]+")
HREF = re.compile(r'(href\s*=\s*")(https?://[^"]+)(")', re.IGNORECASE)
# A 1x1 transparent GIF.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def allowed(session: Session, people: Sequence[uuid.UUID]) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(person, brand) pairs whose messages may be tracked: profiling granted, and no term in
    force with `no_tracking` (`terms.service.holds`, the one rule for every reader). One query
    for the whole chunk."""
    if not people:
        return set()
    g = PurposeGrant
    rows = session.execute(
        select(g.person_id, g.brand_id).where(
            g.person_id.in_(list(people)),
            g.purpose == Purpose.profiling.value,
            g.status == GrantStatus.granted.value,
            ~terms.holds(Effect.no_tracking, g.person_id, g.brand_id),
        )
    ).all()
    return {(person, brand) for person, brand in rows}


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


@dataclass(frozen=True)
class Tracker:
    """Rewrites one message's links for tracking."""

    secret: str
    base_url: str
    outbox_id: int
    skip: frozenset[str] = frozenset()  # links left alone (unsubscribe)

    def click_url(self, target: str) -> str:
        token = _serializer(self.secret).dumps({"m": self.outbox_id, "u": target})
        return f"{self.base_url}/t/c/{token}"

    def open_url(self) -> str:
        return f"{self.base_url}/t/o/{_serializer(self.secret).dumps({'m': self.outbox_id})}.gif"

    def text(self, body: str) -> str:
        return TEXT_URL.sub(lambda m: self._link(m.group(0)), body)

    def html(self, body: str) -> str:
        rewritten = HREF.sub(lambda m: m.group(1) + self._link(m.group(2)) + m.group(3), body)
        pixel = f'<img src="{self.open_url()}" alt="" width="1" height="1">'
        if re.search(r"</body>", rewritten, re.IGNORECASE):
            return re.sub(r"</body>", pixel + "</body>", rewritten, count=1, flags=re.IGNORECASE)
        return rewritten + pixel

    def _link(self, url: str) -> str:
        if url in self.skip or url.startswith(self.base_url + "/u/"):
            return url
        return self.click_url(url)


def read(secret: str, token: str) -> dict[str, Any]:
    try:
        data = _serializer(secret).loads(token)
    except BadSignature:
        raise NotFound("No such link.") from None
    if not isinstance(data, dict) or not isinstance(data.get("m"), int):
        raise NotFound("No such link.")
    return data


def record(session: Session, secret: str, token: str, kind: str) -> str | None:
    """Record an open or a click of a message Accord sent; the click's target (from the signed
    token, never from the request). Unknown or forged tokens are a 404."""
    data = read(secret, token)
    target = data.get("u") if kind == CLICK else None
    if kind == CLICK and not (
        isinstance(target, str) and target.startswith(("https://", "http://"))
    ):
        raise NotFound("No such link.")
    message = session.execute(
        select(OutboxMessage.brand_id, OutboxMessage.campaign_id, OutboxMessage.person_id).where(
            OutboxMessage.id == data["m"]
        )
    ).one_or_none()
    if message is not None:
        session.add(
            DeliveryEvent(
                brand_id=message.brand_id,
                campaign_id=message.campaign_id,
                message_id=data["m"],
                person_id=message.person_id,
                kind=kind,
                detail=target[:1000] if target else None,
                created_at=utcnow(),
            )
        )
        session.flush()
    return target


def counts(session: Session, campaign_id: uuid.UUID) -> dict[str, int]:
    """Opens and clicks of a campaign: unique messages opened / clicked, and totals."""
    e = DeliveryEvent
    rows = session.execute(
        select(e.kind, func.count(), func.count(func.distinct(e.message_id)))
        .where(and_(e.campaign_id == campaign_id, e.kind.in_((OPEN, CLICK))))
        .group_by(e.kind)
    ).all()
    found = {kind: total for kind, total, _ in rows}
    found |= {f"unique_{kind}": unique for kind, _, unique in rows}
    return found


@cache
def _for_person_statement(by_brand: bool) -> Direct:
    """`for_person`'s read, built once (the relationship page runs it on every view) and run
    on the cursor (`core.direct`; the kinds as constants, not a list SQLAlchemy expands)."""
    e = DeliveryEvent
    query = select(e.kind, e.created_at, e.detail).where(
        e.person_id == bindparam("person", type_=Uuid()),
        e.kind.in_([literal(OPEN), literal(CLICK)]),
    )
    if by_brand:
        query = query.where(e.brand_id == bindparam("brand", type_=Uuid()))
    return Direct(query.order_by(e.created_at.desc()).limit(50))


def for_person(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None) -> list[Any]:
    values: dict[str, Any] = {"person": person_id}
    if brand_id is not None:
        values["brand"] = brand_id
    return _for_person_statement(brand_id is not None).all(session, **values)


def panel(session: Session, person_id: uuid.UUID, brand_id: uuid.UUID | None) -> dict[str, Any]:
    """The relationship page's section: whether the brand may track, and what it recorded."""
    if brand_id is None:
        return {"tracking_allowed": False, "tracked": []}
    # `allowed`'s rule for one pair, from what the page has read already (the person's choices,
    # the terms' effects: `terms.holds` and `effects_for` agree, tests/terms differential).
    chosen = relationships.choices(session, person_id, brand_id)
    granted = chosen.purposes.get(Purpose.profiling.value) == GrantStatus.granted.value
    effects = terms.effects_for(session, person_id, brand_id).effects
    return {
        "tracking_allowed": granted and Effect.no_tracking not in effects,
        "tracked": for_person(session, person_id, brand_id),
    }
