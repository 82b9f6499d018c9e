"""The mail domain's one door for other domains: composing an e-mail and the configured mailer."""

from __future__ import annotations

from accord.mail.backends import DevMailer as DevMailer
from accord.mail.backends import Email as Email
from accord.mail.backends import Mailer as Mailer
from accord.mail.backends import build_mailer as build_mailer
from accord.mail.backends import compose as compose

# Other domains import only this module (tests/test_architecture.py): the `name as name`
# imports above are what it offers them from the domain's other modules.
