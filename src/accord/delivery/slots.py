"""A group's send slots under the brand's shared rate: taken for the whole group at once when
the current second has room (else as many as are left), and counted in the second in which
each message is handed over.

A chunk's hand-over can cross into the next second. Its messages from then on count in the new
second: the slots left over from the old one are given back and the rest taken again, so no
second ever sees more hand-overs than the brand's rate, whichever worker made them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from accord.delivery import rate

# Where the counter is written: `write(session, rate.take, *args)`. The worker passes one that
# uses a transaction of its own on PostgreSQL (see `Worker.write_rate`).
RateWriter = Callable[..., Any]


def in_session(session: Session, act: Callable[..., Any], *args: Any) -> Any:
    return act(session, *args)


class Slots:
    def __init__(
        self,
        session: Session,
        write: RateWriter,
        brand_id: uuid.UUID,
        limit: int,
        now: datetime,
        wanted: int,
    ) -> None:
        self.session, self.write, self.brand_id, self.limit = session, write, brand_id, limit
        self.now, self.began = now, time.monotonic()
        self._reserve(now, wanted)

    def clock(self) -> datetime:
        """`now` (the chunk's moment) moved on by the time spent since."""
        return self.now + timedelta(seconds=time.monotonic() - self.began)

    def _reserve(self, at: datetime, n: int) -> None:
        """As many of `n` slots in `at`'s second as are left: the whole ask, else half of it,
        and so on (a few round trips when the rate binds, not one per message)."""
        self.at, self.held, self.exhausted = at, 0, False
        while n:
            if self.write(self.session, rate.take, self.brand_id, self.limit, at, n):
                self.held = n
                return
            n //= 2
        self.exhausted = True

    def use(self, remaining: int) -> bool:
        """A slot for the next message, `remaining` (this one included) still to go; False if
        the brand's rate is used up for this second."""
        at = self.clock()
        if int(at.timestamp()) != int(self.at.timestamp()):
            self.release()  # the rest count in the new second
            self._reserve(at, remaining)
        elif not self.held and not self.exhausted:
            self._reserve(at, remaining)
        if not self.held:
            return False
        self.held -= 1
        return True

    def release(self) -> None:
        """Give back the slots not used."""
        if self.held:
            self.write(self.session, rate.give_back, self.brand_id, self.at, self.held)
            self.held = 0
