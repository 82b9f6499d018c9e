"""The roster: at least the six agreements of the issue, each complete (id, version, title, a
plain text of one page at most, a machine-readable form, what it follows, its effects);
versions are immutable (the database refuses to change or delete one, on both backends) and a
new version is a new row."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from accord.core.db import utcnow
from accord.terms import roster
from accord.terms.models import RosterEffect, RosterEntry

# docs/terms.md, the roster table.
EFFECTS = {
    "service-only": {"no_tracking", "no_profiling", "no_sharing", "no_ai_training"},
    "service-only-portable": {
        "no_tracking",
        "no_profiling",
        "no_sharing",
        "no_ai_training",
        "portability",
    },
    "no-stalking": {"no_tracking", "no_profiling"},
    "no-sharing": {"no_sharing"},
    "no-ai-training": {"no_ai_training"},
    "intent-only": {"intent_only"},
}
FOLLOWS = {
    "service-only": "SD-BASE",
    "service-only-portable": "SD-BASE-DP",
    "no-stalking": "#NoStalking",
    "intent-only": "PDC-INTENT",
}
# One page: about 500 words, 3,000 characters.
PAGE_WORDS, PAGE_CHARACTERS = 500, 3000


def test_every_entry_is_complete(client: TestClient, session: Session) -> None:
    found = {e.slug: e for e in roster.entries(session) if e.version == 1}
    assert set(EFFECTS) <= set(found)
    for slug, effects in EFFECTS.items():
        entry = found[slug]
        assert entry.title and entry.machine, slug
        assert 0 < len(entry.text.split()) <= PAGE_WORDS, slug
        assert len(entry.text) <= PAGE_CHARACTERS, slug
        assert {e.value for e in entry.effects} == effects, slug
        if slug in FOLLOWS:
            assert entry.follows is not None and FOLLOWS[slug] in entry.follows, slug
            assert entry.follows_url is not None and entry.follows_url.startswith("https://")
    listed = client.get("/api/v1/terms/roster").json()
    assert {(e["id"], e["version"]) for e in listed} >= {(slug, 1) for slug in EFFECTS}
    one = client.get("/api/v1/terms/roster/no-sharing/1").json()
    assert one["id"] == "no-sharing" and one["text"] == found["no-sharing"].text


@pytest.mark.parametrize(
    "change",
    [
        update(RosterEntry)
        .where(RosterEntry.slug == "no-sharing", RosterEntry.version == 1)
        .values(text="You may share my data."),
        update(RosterEntry).where(RosterEntry.slug == "no-sharing").values(version=7),
        delete(RosterEntry).where(RosterEntry.slug == "no-ai-training"),
        update(RosterEffect).where(RosterEffect.slug == "no-sharing").values(effect="portability"),
        delete(RosterEffect).where(RosterEffect.slug == "no-stalking"),
    ],
    ids=["text", "version", "delete", "effect", "delete-effect"],
)
def test_a_version_cannot_be_changed_or_deleted(session: Session, change: object) -> None:
    before = roster.entries(session)
    with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
        session.execute(change)  # type: ignore[call-overload]
    assert roster.entries(session) == before


def test_a_new_version_is_a_new_row(client: TestClient, session: Session) -> None:
    first = roster.entry(session, "no-sharing", 1)
    session.execute(
        insert(RosterEntry).values(
            slug="no-sharing",
            version=2,
            title="No sharing",
            text="You do not share my data with anyone, processors included.",
            machine={"data_use": {"sharing": False, "processors": False}},
            published_at=utcnow(),
        )
    )
    session.execute(insert(RosterEffect).values(slug="no-sharing", version=2, effect="no_sharing"))
    session.flush()
    assert roster.entry(session, "no-sharing").version == 2  # the latest by default
    assert roster.entry(session, "no-sharing", 1) == first  # the old one as it was
    versions = session.scalars(
        select(RosterEntry.version).where(RosterEntry.slug == "no-sharing")
    ).all()
    assert sorted(versions) == [1, 2]
    latest = client.get("/api/v1/terms/roster", params={"latest": "true"}).json()
    assert [e["version"] for e in latest if e["id"] == "no-sharing"] == [2]
