"""`dev` only: a channel without an adapter of its own lands in the dev mailbox, as an e-mail to
the channel's address, so that every message can be seen without any provider."""

from __future__ import annotations

from accord.core.settings import EmailBackend, Settings
from accord.delivery.channels.email import EmailChannel


class DevChannel(EmailChannel):
    def __init__(self, settings: Settings, channel: str) -> None:
        super().__init__(settings.model_copy(update={"email_backend": EmailBackend.dev}))
        self.name = channel  # type: ignore[misc]  # the channel it stands in for
