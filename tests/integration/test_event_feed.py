"""The event feed never lets a cursor pass an event that is still being committed."""

from __future__ import annotations

import pytest

from midway.events.service import NewEvent, emit, list_events
from midway.principal import Principal


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_feed_waits_for_older_transactions_on_postgres(db, make_actor):
    merchant = make_actor("merchant", "Feed Merchant")
    principal = Principal(merchant.id, "merchant", "admin")

    def event(name: str) -> NewEvent:
        return NewEvent(type=name, merchant_id=merchant.id, subject_type="test", subject_id=name)

    slow = db._sessions()  # a transaction that writes first and commits last
    emit(slow, [event("first")])
    with db.transaction() as session:
        emit(session, [event("second")])
    with db.transaction(write=False) as session:
        seen, cursor = list_events(session, principal, after=None)
    assert [e.type for e in seen] == []  # "second" must wait for "first"
    slow.commit()
    slow.close()
    with db.transaction(write=False) as session:
        seen, cursor = list_events(session, principal, after=cursor)
    assert [e.type for e in seen] == ["first", "second"]
    with db.transaction() as session:
        emit(session, [event("third")])
    with db.transaction(write=False) as session:
        seen, _ = list_events(session, principal, after=cursor)
    assert [e.type for e in seen] == ["third"]
