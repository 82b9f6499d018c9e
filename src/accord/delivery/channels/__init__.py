"""Channel adapters, by channel name. See `base` for the interface.

A new channel is a module with a `Channel` subclass and one line here: the adapter's
"module:class", imported only when a worker first needs it. Its constructor takes the
`Settings` (from which it picks its provider, URL and credentials)."""

from __future__ import annotations

import importlib
from typing import Any

from accord.core.settings import Settings
from accord.delivery.channels.base import Channel

ADAPTERS: dict[str, str] = {
    "email": "accord.delivery.channels.email:EmailChannel",
    "sms": "accord.delivery.channels.sms:SmsChannel",
    "push": "accord.push.channel:PushChannel",
    "inapp": "accord.inbox.channel:InAppChannel",
    "webhook": "accord.delivery.channels.webhook:WebhookChannel",
}


def open_channel(name: str, settings: Settings) -> Channel:
    """The adapter for channel `name`, built from the settings. In `dev`, a channel without an
    adapter of its own goes to the dev mailbox (`channels.dev`)."""
    target = ADAPTERS.get(name)
    if target is None:
        if not settings.is_dev:
            raise LookupError(f"No adapter delivers the {name} channel.")
        from accord.delivery.channels.dev import DevChannel

        return DevChannel(settings, name)
    module_name, attribute = target.split(":")
    factory: Any = getattr(importlib.import_module(module_name), attribute)
    channel: Channel = factory(settings)
    return channel


class Channels:
    """The adapters one worker uses, each built when first needed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.open: dict[str, Channel] = {}

    def get(self, name: str) -> Channel:
        channel = self.open.get(name)
        if channel is None:
            channel = self.open[name] = open_channel(name, self.settings)
        return channel

    def close(self) -> None:
        for channel in self.open.values():
            channel.close()
