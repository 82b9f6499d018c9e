"""Reads that one page repeats, kept for the rest of that page's request.

A page and the panels other domains add to it read the same rows: the relationship page, its
texts panel and its ideas panel each read the relationship, the person's choices and contact
points. Each read costs an ORM round (building the statement, running it, making objects),
and the session's identity map does not keep them (it holds its objects weakly). A request's
session turns the memo on (`remember`, core.web.deps) and then gets each such read once; a
read function opts in by going through `remembered`.

Any write through the session empties the memo, and so do commit and rollback, so a read after
a change sees the change. Nothing outside a request turns it on: a worker's gate check always
reads afresh."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

MEMO = "accord_read_memo"
T = TypeVar("T")


def remember(session: Session) -> None:
    """Keep `remembered` reads for the rest of this session (a page's request)."""
    session.info.setdefault(MEMO, {})


def remembered(session: Session, key: tuple[Hashable, ...], read: Callable[[], T]) -> T:
    """`read()`, or what it gave earlier in this request when the memo is on and nothing has
    been written since. `key` names the read and its arguments."""
    memo: dict[tuple[Hashable, ...], Any] | None = session.info.get(MEMO)
    if memo is None or session.new or session.dirty or session.deleted:
        # Changes not yet flushed: the read's autoflush must see them, so it runs afresh.
        return read()
    if key not in memo:
        memo[key] = read()
    found: T = memo[key]
    return found


def forget(session: Session) -> None:
    """Empty the memo: for writes that bypass the session's ORM execution (a bulk COPY or an
    executemany on its connection), which the listeners below do not see."""
    memo = session.info.get(MEMO)
    if memo:
        memo.clear()


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if not state.is_select:
        forget(state.session)


@event.listens_for(Session, "after_flush")
def _on_flush(session: Session, _context: object) -> None:
    forget(session)


@event.listens_for(Session, "after_commit")
def _on_commit(session: Session) -> None:
    forget(session)


@event.listens_for(Session, "after_soft_rollback")
def _on_rollback(session: Session, _transaction: object) -> None:
    forget(session)
