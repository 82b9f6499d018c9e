"""Web Push API: the instance's VAPID public key and the signed-in person's subscriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from accord.core.validation import Line
from accord.core.web.deps import SessionDep, SettingsDep
from accord.people.deps import PersonDep
from accord.people.models import ContactPoint
from accord.push import service
from accord.push.schemas import PublicKey, SubscriptionIn, SubscriptionOut

router = APIRouter(tags=["web push"])


def _out(point: ContactPoint) -> SubscriptionOut:
    return SubscriptionOut(
        id=point.id,
        endpoint=point.address,
        created_at=point.created_at,
        suppressed_reason=point.suppressed_reason,
    )


@router.get("/push/public-key", response_model=PublicKey)
def public_key(settings: SettingsDep) -> PublicKey:
    """The `applicationServerKey` a browser subscribes with (base64url, uncompressed P-256)."""
    return PublicKey(public_key=service.public_key(settings))


@router.get("/me/push-subscriptions", response_model=list[SubscriptionOut])
def my_subscriptions(person: PersonDep, session: SessionDep) -> list[SubscriptionOut]:
    return [_out(p) for p in service.subscriptions(session, person.person_id)]


@router.post(
    "/me/push-subscriptions", response_model=SubscriptionOut, status_code=status.HTTP_201_CREATED
)
def subscribe(
    data: SubscriptionIn, person: PersonDep, session: SessionDep, settings: SettingsDep
) -> SubscriptionOut:
    """Store this browser's subscription (the body of `PushSubscription.toJSON()`). It is a
    verified `push` contact point; subscribing again with new keys renews it."""
    point = service.subscribe(
        session, settings, person.person_id, data.endpoint, data.keys.p256dh, data.keys.auth
    )
    return _out(point)


@router.delete("/me/push-subscriptions", status_code=status.HTTP_204_NO_CONTENT)
def unsubscribe(
    endpoint: Annotated[Line, Query(max_length=320)], person: PersonDep, session: SessionDep
) -> Response:
    service.unsubscribe(session, person.person_id, endpoint)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
