"""Consent: relationships' decisions, the hash-chained ledger, receipts."""
