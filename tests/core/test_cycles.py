"""The web process's start-up objects are left out of later collections, and no garbage made
before is kept."""

from __future__ import annotations

import subprocess
import sys

_SCRIPT = """
import gc, weakref
from accord.core.cycles import freeze_start_up

class Node:
    pass

kept = [Node() for _ in range(1000)]
cycle = Node()
cycle.me = cycle
gone = weakref.ref(cycle)
del cycle
before = len(gc.get_objects())
freeze_start_up()
assert gone() is None, "garbage made before start-up ended was kept"
assert gc.get_freeze_count() >= len(kept)
# What a full collection walks: only what was made since.
assert len(gc.get_objects()) < before - len(kept), (len(gc.get_objects()), before)
made_after = [Node() for _ in range(10)]
assert all(any(o is n for o in gc.get_objects()) for n in made_after[:1])
"""


def test_start_up_objects_are_frozen_after_a_collection() -> None:
    # A process of its own: freezing is process-wide, and this test process goes on.
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
