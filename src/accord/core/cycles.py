"""Bulk writes without the cycle collector."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# The switch is process-wide, and two imports may overlap (a CLI import beside nothing, but
# the batch API in the web process beside another): the collector comes back on only when the
# last of them ends, and only if it was on before the first began.
_lock = threading.Lock()
_holders = 0
_was_enabled = True


@contextmanager
def uncollected() -> Iterator[None]:
    """Run the block with the cycle collector off. A bulk import keeps a chunk's rows, dicts
    and models alive while it writes them, so they outlive the young generations and every few
    chunks trigger a full collection that walks the whole heap (the process's modules included):
    a third of the consent import's time on SQLite (bench/consent_import.py), and of the
    analytics import's. Reference counting still frees each chunk."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()


def freeze_start_up() -> None:
    """Leave what a long-running process built at start-up out of every later collection.

    The web app's routes, models, schemas and modules are some 300,000 tracked objects that live
    as long as the process; every full collection walked them all, a pause of 100-400 ms of the
    event loop under load (every request in flight waits: bench/api_overhead.py's PostgreSQL
    p99). Garbage made so far is collected first, so none of it is kept."""
    gc.collect()
    gc.freeze()
