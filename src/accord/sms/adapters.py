"""The gateway adapter the settings choose (`ACCORD_SMS_GATEWAY`)."""

from __future__ import annotations

from accord.core.settings import Settings, SmsGatewayKind
from accord.sms.dev_phone import DevPhoneGateway
from accord.sms.gateway import Gateway
from accord.sms.generic import GenericGateway
from accord.sms.twilio import TwilioGateway


def build_gateway(settings: Settings) -> Gateway:
    """The adapter `ACCORD_SMS_GATEWAY` names, checked for the settings it needs."""
    kind = settings.sms_gateway
    if kind is SmsGatewayKind.twilio:
        return TwilioGateway(settings)
    if kind is SmsGatewayKind.generic:
        return GenericGateway(settings)
    return DevPhoneGateway()
