"""Bulk writes without the cycle collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def uncollected() -> Iterator[None]:
    """Run the block with the cycle collector off. A bulk import keeps a chunk's rows, dicts
    and models alive while it writes them, so they outlive the young generations and every few
    chunks trigger a full collection that walks the whole heap (the process's modules included):
    a third of the consent import's time on SQLite (bench/consent_import.py). Reference
    counting still frees each chunk. The switch is process-wide, so it is put back as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
