"""The mails people receive from Accord itself (not from brands)."""

from __future__ import annotations

from accord.mail.service import Email


def sign_in_link(*, to: str, url: str, minutes: int, first_time: bool) -> Email:
    action = "confirm your address and sign in" if first_time else "sign in"
    text = (
        f"Hello,\n\nUse this link to {action} to Accord:\n\n{url}\n\n"
        f"It works once and expires in {minutes} minutes. If you did not ask for it, "
        "ignore this message: nothing happens without the link.\n"
    )
    html = (
        f"<p>Hello,</p><p>Use this link to {action} to Accord:</p>"
        f'<p><a href="{url}">{url}</a></p>'
        f"<p>It works once and expires in {minutes} minutes. If you did not ask for it, "
        "ignore this message.</p>"
    )
    return Email(to=to, subject="Your Accord sign-in link", text=text, html=html)
