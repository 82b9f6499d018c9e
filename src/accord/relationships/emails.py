"""Mails Accord sends on a brand's behalf about the relationship itself."""

from __future__ import annotations

from accord.brands.models import Brand
from accord.mail.service import Email


def confirm_consent(*, to: str, brand: Brand, url: str, what: str) -> Email:
    text = (
        f"{brand.name} says you agreed to receive {what}.\n\n"
        f"Nothing is sent until you confirm. To confirm, open:\n\n{url}\n\n"
        "If this was not you, ignore this message: without your confirmation nothing happens.\n"
        f"\n{brand.name}, {brand.postal_address or ''}\n"
    )
    return Email(
        to=to,
        subject=f"Confirm: messages from {brand.name}",
        text=text,
        sender=f"{brand.sender_name} via Accord <no-reply@accord.localhost>",
    )


def invitation(*, to: str, brand: Brand, url: str) -> Email:
    text = (
        f"{brand.name} invites you to manage your relationship with them on Accord.\n\n"
        "On Accord you decide which messages they may send, on which channels, and how often; "
        "you can pause or end the relationship at any time.\n\n"
        f"Accept or decline here:\n\n{url}\n\n"
        f"Until you accept, {brand.name} cannot send you anything through Accord.\n"
    )
    return Email(to=to, subject=f"{brand.name} invites you to Accord", text=text)
