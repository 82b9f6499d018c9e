"""Webhook endpoints, their deliveries, replay and the event types, for brand systems."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from accord.brands.deps import BrandDep
from accord.core.permissions import Permission
from accord.core.web.deps import SessionDep, SettingsDep
from accord.core.web.params import BIGINT, RowId
from accord.webhooks import registry, service
from accord.webhooks.models import WebhookDelivery, WebhookEvent
from accord.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    EndpointChange,
    EndpointIn,
    EndpointOut,
    EndpointWithSecret,
    EventTypeOut,
    TestOut,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


def delivery_out(delivery: WebhookDelivery, event: WebhookEvent) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        event_id=event.id,
        event_type=event.type,
        state=delivery.state,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_attempt_at=delivery.last_attempt_at,
        last_status=delivery.last_status,
        last_response=delivery.last_response,
        last_error=delivery.last_error,
        succeeded_at=delivery.succeeded_at,
        payload=event.payload,
    )


@router.get("/event-types", response_model=list[EventTypeOut])
def event_types() -> list[EventTypeOut]:
    return [EventTypeOut(name=t.name, description=t.description) for t in registry.known().values()]


@router.get("/endpoints", response_model=list[EndpointOut])
def list_endpoints(caller: BrandDep, session: SessionDep) -> list[EndpointOut]:
    caller.require(Permission.read_brand)
    return [EndpointOut.model_validate(e) for e in service.endpoints(session, caller.brand_id)]


@router.post("/endpoints", response_model=EndpointWithSecret, status_code=status.HTTP_201_CREATED)
def create_endpoint(
    data: EndpointIn, caller: BrandDep, session: SessionDep, settings: SettingsDep
) -> EndpointWithSecret:
    """Register an endpoint. The answer carries its signing secret (also readable later by
    an owner at GET …/{id}/secret)."""
    caller.require(Permission.manage_brand)
    endpoint = service.create_endpoint(
        session,
        settings,
        caller.brand_id,
        url=data.url,
        event_types=data.event_types,
        description=data.description,
        is_channel=data.is_channel,
    )
    return EndpointWithSecret.model_validate(endpoint)


@router.get("/endpoints/{endpoint_id}", response_model=EndpointOut)
def read_endpoint(endpoint_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> EndpointOut:
    caller.require(Permission.read_brand)
    return EndpointOut.model_validate(service.get_endpoint(session, caller.brand_id, endpoint_id))


@router.get("/endpoints/{endpoint_id}/secret", response_model=EndpointWithSecret)
def read_secret(
    endpoint_id: uuid.UUID, caller: BrandDep, session: SessionDep
) -> EndpointWithSecret:
    caller.require(Permission.manage_brand)
    endpoint = service.get_endpoint(session, caller.brand_id, endpoint_id)
    return EndpointWithSecret.model_validate(endpoint)


@router.post("/endpoints/{endpoint_id}/rotate-secret", response_model=EndpointWithSecret)
def rotate_secret(
    endpoint_id: uuid.UUID, caller: BrandDep, session: SessionDep
) -> EndpointWithSecret:
    caller.require(Permission.manage_brand)
    endpoint = service.rotate_secret(session, caller.brand_id, endpoint_id)
    return EndpointWithSecret.model_validate(endpoint)


@router.patch("/endpoints/{endpoint_id}", response_model=EndpointOut)
def update_endpoint(
    endpoint_id: uuid.UUID,
    data: EndpointChange,
    caller: BrandDep,
    session: SessionDep,
    settings: SettingsDep,
) -> EndpointOut:
    caller.require(Permission.manage_brand)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    endpoint = service.update_endpoint(session, settings, caller.brand_id, endpoint_id, changes)
    return EndpointOut.model_validate(endpoint)


@router.delete("/endpoints/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_endpoint(endpoint_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> Response:
    caller.require(Permission.manage_brand)
    service.delete_endpoint(session, caller.brand_id, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/endpoints/{endpoint_id}/test", response_model=TestOut, status_code=status.HTTP_202_ACCEPTED
)
def send_test(endpoint_id: uuid.UUID, caller: BrandDep, session: SessionDep) -> TestOut:
    caller.require(Permission.manage_brand)
    return TestOut(event_id=service.send_test(session, caller.brand_id, endpoint_id))


@router.get("/endpoints/{endpoint_id}/deliveries", response_model=DeliveryPage)
def list_deliveries(
    endpoint_id: uuid.UUID,
    caller: BrandDep,
    session: SessionDep,
    before: Annotated[int | None, Query(ge=1, le=BIGINT)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    """The endpoint's deliveries, newest first, with the last response of each."""
    caller.require(Permission.read_brand)
    rows, next_before = service.deliveries(
        session, caller.brand_id, endpoint_id, before=before, limit=limit
    )
    return DeliveryPage(items=[delivery_out(d, e) for d, e in rows], next_before=next_before)


@router.post(
    "/deliveries/{delivery_id}/replay",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def replay(delivery_id: RowId, caller: BrandDep, session: SessionDep) -> DeliveryOut:
    """Send the delivery's event again now (same webhook-id), with fresh retries."""
    caller.require(Permission.manage_brand)
    delivery = service.replay(session, caller.brand_id, delivery_id)
    event = session.get(WebhookEvent, delivery.event_id)
    assert event is not None
    return delivery_out(delivery, event)
