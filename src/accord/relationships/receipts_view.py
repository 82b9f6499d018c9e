"""Signed receipts for ledger events, with the brand as controller."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from accord.brands.models import Brand
from accord.consent import service as consent
from accord.consent.models import LedgerEvent
from accord.consent.service import ControllerInfo, instance_signing_key, signed_receipt

ACCORD_CONTROLLER = "Accord (global preferences)"


def controller_for(session: Session, event: LedgerEvent, support_email: str) -> ControllerInfo:
    brand = session.get(Brand, event.brand_id) if event.brand_id else None
    if brand is None:
        return ControllerInfo(
            name=ACCORD_CONTROLLER, contact_email=support_email, postal_address=None, brand_id=None
        )
    return ControllerInfo(
        name=brand.name,
        contact_email=brand.support_email,
        postal_address=brand.postal_address,
        brand_id=brand.id,
    )


def receipt_for(session: Session, request: Request, event: LedgerEvent) -> dict[str, Any]:
    settings = request.app.state.settings
    controller = controller_for(session, event, settings.email_from)
    return signed_receipt(
        consent.body_of(event),
        event.hash,
        controller=controller,
        instance_url=settings.base_url,
        policy_url=None,
        key=instance_signing_key(request),
    )
