"""The delivery domain's one door for other domains: the worker that sends what is due."""

from __future__ import annotations

from accord.delivery.worker import Worker as Worker

# Other domains import only this module (tests/test_architecture.py): the `name as name`
# imports above are what it offers them from the domain's other modules.
