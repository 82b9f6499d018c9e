"""The Twilio-compatible and generic adapters against real local HTTP servers that behave like
the providers: accepted, 429 and 5xx to be tried again (Retry-After honoured), 4xx refused
for good with the provider's code, an unreachable provider tried again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from accord.core.errors import InvalidInput
from accord.core.settings import Settings, SmsGatewayKind
from accord.sms import twilio
from accord.sms.adapters import build_gateway
from accord.sms.dev_phone import DevPhoneGateway
from accord.sms.gateway import ACCEPTED, FAILED, RETRY, Gateway, Text
from accord.sms.generic import GenericGateway
from accord.sms.twilio import TwilioGateway
from tests.sms.providers import BEARER, SID, TOKEN, Answer, Provider, running

TO, FROM = "+12025550181", "+12025550100"
TEXT = Text(to=TO, sender=FROM, body="Groove Records: new vinyl in.", reference="sms-1")


def settings_for(kind: str, url: str, tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path,
        secret_key="k",  # type: ignore[arg-type]
        base_url="https://accord.example",
        sms_gateway=SmsGatewayKind(kind),
        sms_gateway_url=f"{url}/send",
        sms_gateway_token=BEARER,  # type: ignore[arg-type]
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,  # type: ignore[arg-type]
        twilio_api_url=url,
        sms_timeout_seconds=5,
    )


@pytest.fixture(params=["twilio", "generic"])
def provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    with running(request.param) as fake:
        yield fake


@pytest.fixture
def gateway(provider: Provider, tmp_path: Path) -> Iterator[Gateway]:
    adapter = build_gateway(settings_for(provider.kind, provider.url, tmp_path))
    yield adapter
    adapter.close()


def test_settings_choose_the_adapter(provider: Provider, gateway: Gateway, tmp_path: Path) -> None:
    assert isinstance(gateway, TwilioGateway if provider.kind == "twilio" else GenericGateway)
    assert isinstance(build_gateway(Settings(var_dir=tmp_path)), DevPhoneGateway)


def test_an_accepted_text_carries_the_providers_id(provider: Provider, gateway: Gateway) -> None:
    result = gateway.send(None, TEXT)
    assert result.verdict == ACCEPTED and result.status == "queued"
    [text] = provider.texts
    assert result.provider_id == text["id"]
    assert (text["to"], text["from"], text["body"]) == (TO, FROM, TEXT.body)
    assert text["status_callback"] == f"https://accord.example/hooks/sms/{provider.kind}/status"


def test_429_is_tried_again_after_retry_after(provider: Provider, gateway: Gateway) -> None:
    code = 20429 if provider.kind == "twilio" else "rate_limited"
    provider.answer(TO, Answer(429, {"code": code, "message": "Too many"}, {"Retry-After": "7"}))
    result = gateway.send(None, TEXT)
    assert result.verdict == RETRY and result.retry_after == timedelta(seconds=7)
    assert result.code == str(code) and not provider.texts
    assert gateway.send(None, TEXT).verdict == ACCEPTED  # the next try goes through


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_tried_again(provider: Provider, gateway: Gateway, status: int) -> None:
    provider.answer(TO, Answer(status, {"message": "busy"}))
    result = gateway.send(None, TEXT)
    assert result.verdict == RETRY and result.retry_after is None and not provider.texts


def test_a_4xx_fails_for_good_with_the_providers_code(provider: Provider, gateway: Gateway) -> None:
    provider.answer(TO, Answer(400, {"code": 21211, "message": "The 'To' number is not valid."}))
    result = gateway.send(None, TEXT)
    assert result.verdict == FAILED and result.code == "21211"
    assert "not valid" in result.detail


def test_a_4xx_without_a_code_names_the_status(provider: Provider, gateway: Gateway) -> None:
    provider.answer(TO, Answer(403, {"message": "forbidden"}))
    assert gateway.send(None, TEXT).code == "403"


def test_an_unreachable_provider_is_tried_again(tmp_path: Path) -> None:
    with running("generic") as fake:
        url = fake.url
    for kind in ("twilio", "generic"):
        adapter = build_gateway(settings_for(kind, url, tmp_path))
        result = adapter.send(None, TEXT)
        adapter.close()
        assert result.verdict == RETRY and "unreachable" in result.detail


def test_wrong_credentials_are_refused_for_good(provider: Provider, tmp_path: Path) -> None:
    wrong = SecretStr("wrong")
    settings = settings_for(provider.kind, provider.url, tmp_path).model_copy(
        update={"twilio_auth_token": wrong, "sms_gateway_token": wrong}
    )
    adapter = build_gateway(settings)
    result = adapter.send(None, TEXT)
    adapter.close()
    assert result.verdict == FAILED and not provider.texts


def test_an_adapter_without_its_settings_says_which(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="ACCORD_TWILIO_ACCOUNT_SID"):
        build_gateway(Settings(var_dir=tmp_path, sms_gateway=SmsGatewayKind.twilio))
    with pytest.raises(InvalidInput, match="ACCORD_SMS_GATEWAY_URL"):
        build_gateway(Settings(var_dir=tmp_path, sms_gateway=SmsGatewayKind.generic))


# Twilio's own test vectors (twilio-python, tests/unit/test_request_validator.py).
URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}


def test_twilio_signatures_match_twilios_vectors() -> None:
    assert twilio.signature("12345", URI, PARAMS.items()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert twilio.signature("12345", URI, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    assert twilio.valid("12345", URI, PARAMS.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    # A port is removed, or the default one added, as Twilio's libraries check.
    assert twilio.valid(
        "12345", URI.replace(".com", ".com:1234"), PARAMS.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )
    assert twilio.valid("12345", URI, PARAMS.items(), "kvajT1Ptam85bY51eRf/AJRuM3w=")
    assert not twilio.valid("12345", URI, PARAMS.items(), "kvajT1Ptam85bY51eRf/AJRuM3x=")
    assert not twilio.valid("other", URI, PARAMS.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not twilio.valid("12345", URI, PARAMS.items(), None)
    assert not twilio.valid("", URI, PARAMS.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
