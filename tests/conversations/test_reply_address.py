"""Reply addresses name their thread and cannot be made up or altered."""

from __future__ import annotations

import uuid
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from accord.conversations import reply_address
from accord.core.settings import Settings


def settings(tmp: Path, key: str = "instance-key-one") -> Settings:
    return Settings(var_dir=tmp, secret_key=key, base_url="https://accord.example")  # type: ignore[arg-type]


def test_round_trip_and_form(tmp_path: Path) -> None:
    s = settings(tmp_path)
    thread = uuid.uuid4()
    address = reply_address.address_for(s, thread)
    local, domain = address.split("@")
    assert domain == "accord.example" and local.startswith("reply+") and len(local) <= 64
    assert reply_address.thread_of(s, address) == thread
    # Mail systems may change case or add angle brackets: still the same thread.
    assert reply_address.thread_of(s, f"<{address.upper()}>") == thread


def test_another_instance_key_or_domain_is_refused(tmp_path: Path) -> None:
    thread = uuid.uuid4()
    address = reply_address.address_for(settings(tmp_path), thread)
    assert reply_address.thread_of(settings(tmp_path, "another-key"), address) is None
    other = Settings(
        var_dir=tmp_path, secret_key="instance-key-one", reply_domain="elsewhere.example"
    )  # type: ignore[arg-type]
    assert reply_address.thread_of(other, address) is None


def test_a_thread_id_with_anothers_mac_is_refused(tmp_path: Path) -> None:
    s = settings(tmp_path)
    mine = reply_address.address_for(s, uuid.uuid4())
    theirs = reply_address.address_for(s, uuid.uuid4())
    forged = mine.split(".")[0] + "." + theirs.split(".", 1)[1]
    assert reply_address.thread_of(s, forged) is None


@given(
    position=st.integers(min_value=6, max_value=48),
    char=st.sampled_from("abcdefghijklmnopqrstuvwxyz234567"),
)
def test_any_altered_character_is_refused(position: int, char: str) -> None:
    s = Settings(
        var_dir=Path("/nonexistent"),
        secret_key="instance-key-one",
        base_url="https://accord.example",
    )  # type: ignore[arg-type]
    thread = uuid.UUID(int=123456789)
    address = reply_address.address_for(s, thread)
    if address[position] in (char, "."):
        return
    altered = address[:position] + char + address[position + 1 :]
    assert reply_address.thread_of(s, altered) is None


def test_only_reply_plus_addresses_are_claimed() -> None:
    assert reply_address.is_reply_address("Reply+anything@x.example")
    assert not reply_address.is_reply_address("unsubscribe@x.example")
