"""Apps wired to a local provider (Twilio-compatible or generic) for the SMS tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from accord.app import create_app
from accord.core.settings import Settings, SmsGatewayKind
from tests.conftest import RolledBackDatabase
from tests.sms.providers import BEARER, SECRET, SID, TOKEN, Provider, running

SHARED = "+12025550199"


def provider_settings(settings: Settings, provider: Provider) -> Settings:
    return settings.model_copy(
        update={
            "sms_gateway": SmsGatewayKind(provider.kind),
            "sms_from": SHARED,
            "sms_gateway_url": f"{provider.url}/send",
            "sms_gateway_token": SecretStr(BEARER),
            "sms_gateway_secret": SecretStr(SECRET),
            "twilio_account_sid": SID,
            "twilio_auth_token": SecretStr(TOKEN),
            "twilio_api_url": provider.url,
        }
    )


@pytest.fixture(params=["twilio", "generic"])
def provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    with running(request.param) as fake:
        yield fake


@pytest.fixture
def sms_settings(settings: Settings, provider: Provider) -> Settings:
    return provider_settings(settings, provider)


@pytest.fixture
def sms_client(sms_settings: Settings, database: RolledBackDatabase) -> Iterator[TestClient]:
    with TestClient(create_app(sms_settings, database=database)) as client:
        yield client
