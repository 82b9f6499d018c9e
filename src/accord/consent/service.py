"""The consent domain's one door for other domains: the ledger (append a decision, read a
person's events, hold their chain), the change feed, consent receipts and verification."""

from __future__ import annotations

from accord.consent import feed
from accord.consent.keys_api import instance_signing_key as instance_signing_key
from accord.consent.ledger import Along as Along
from accord.consent.ledger import Appended as Appended
from accord.consent.ledger import Entry as Entry
from accord.consent.ledger import Heads as Heads
from accord.consent.ledger import HeldRead as HeldRead
from accord.consent.ledger import Scope as Scope
from accord.consent.ledger import append as append
from accord.consent.ledger import append_many as append_many
from accord.consent.ledger import body_of as body_of
from accord.consent.ledger import events_for as events_for
from accord.consent.ledger import events_newest_first as events_newest_first
from accord.consent.ledger import hold as hold
from accord.consent.ledger import hold_many as hold_many
from accord.consent.ledger import hold_reading as hold_reading
from accord.consent.ledger import timestamp as timestamp
from accord.consent.receipts import COLLECTION_METHODS as COLLECTION_METHODS
from accord.consent.receipts import ControllerInfo as ControllerInfo
from accord.consent.receipts import event_state as event_state
from accord.consent.receipts import ledger_link_ok as ledger_link_ok
from accord.consent.receipts import signed_receipt as signed_receipt
from accord.consent.verification import verify as verify

# Other domains import only this module (tests/test_architecture.py): the `name as name`
# imports above are what it offers them from the domain's other modules, and these
# under a name that says what they do.
feed_page = feed.page
