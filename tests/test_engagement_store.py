"""The engagement store (scheduler/store/engagement.py): sent deliveries to ask about, snapshots
over time, latest counts, series, runs and their notes. Deliveries are sent for real through the
dispatcher to the fakes first, so their remote ids are the platforms' own. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from campaign_builders import post
from dispatch_world import DUE, World, clock, fakes, world

from scheduler.errors import SchemaMismatch
from scheduler.store.documents import AccountNote, CollectionError, RunNotes
from scheduler.store.engagement import (
    COMMAND,
    accounts_by_id,
    gone_deliveries,
    last_run,
    latest_counts,
    record_batch,
    save_notes,
    sent_deliveries,
    series,
    start_run,
)
from scheduler.store.schema import EngagementRun

__all__ = ["clock", "fakes", "world"]  # fixtures, used by name

HOUR = dt.timedelta(hours=1)


def _sent_world(world: World) -> None:
    world.sync([post("d01-open", time="09:00"), post("d02-more", time="12:00")],
               platforms=("x", "mastodon", "bluesky"))  # fmt: skip
    world.clock.advance_to(DUE)
    world.send()


def test_sent_deliveries_carry_the_platforms_ids_and_are_filtered(world: World) -> None:
    _sent_world(world)
    with world.database.snapshot() as session:
        sent = sent_deliveries(session)
        only_x = sent_deliveries(session, platforms=["x"])
        other = sent_deliveries(session, campaign_id="no-such-campaign")
        accounts = accounts_by_id(session, {s.account_id for s in sent})
    assert {s.platform for s in sent} == {"x", "mastodon", "bluesky"}
    assert len(sent) == 3  # the 12:00 post is not due yet
    by_platform = {s.platform: s for s in sent}
    assert by_platform["bluesky"].remote_id.startswith("at://")
    assert by_platform["x"].remote_id == world.platforms.x.posted[0].id
    assert [s.platform for s in only_x] == ["x"]
    assert other == []
    assert {a.platform for a in accounts.values()} == {"x", "mastodon", "bluesky"}
    assert all(s.checked_at is None and s.sent_at is not None for s in sent)


def test_snapshots_give_latest_counts_and_series_and_mark_checks(world: World) -> None:
    _sent_world(world)
    with world.database.snapshot() as session:
        first, second, third = sent_deliveries(session)
    t0 = DUE + HOUR
    with world.database.transaction() as session:
        run = start_run(session, t0, trigger=COMMAND)
        written = record_batch(session, run_id=run, now=t0,
                               counts={first.delivery_id: {"likes": 1, "replies": 0}},
                               gone=[third.delivery_id])  # fmt: skip
        record_batch(session, run_id=run, now=t0 + HOUR,
                     counts={first.delivery_id: {"likes": 5}})  # fmt: skip
    assert written == 2
    with world.database.snapshot() as session:
        latest = latest_counts(session)
        curve = series(session, first.delivery_id)
        gone = gone_deliveries(session, [first.delivery_id, third.delivery_id])
        stale = sent_deliveries(session, not_checked_since=t0 + HOUR)
    # replies was not given the second time: its last known value stays; absent is never 0
    assert latest == {first.delivery_id: {"likes": 5, "replies": 0}}
    assert curve == {"likes": [(t0, 1), (t0 + HOUR, 5)], "replies": [(t0, 0)]}
    assert gone == {third.delivery_id}
    assert [s.delivery_id for s in stale] == [second.delivery_id, third.delivery_id]
    assert stale[1].checked_at == t0


def test_a_check_written_twice_keeps_the_last(world: World) -> None:
    _sent_world(world)
    with world.database.snapshot() as session:
        one = sent_deliveries(session)[0]
    for at, gone in ((DUE + HOUR, [one.delivery_id]), (DUE + 2 * HOUR, [])):
        with world.database.transaction() as session:
            counts = {} if gone else {one.delivery_id: {"likes": 2}}
            record_batch(session, run_id=None, now=at, counts=counts, gone=gone)
    with world.database.snapshot() as session:
        [again] = [s for s in sent_deliveries(session) if s.delivery_id == one.delivery_id]
        assert gone_deliveries(session, [one.delivery_id]) == set()
    assert again.checked_at == DUE + 2 * HOUR


def test_runs_keep_their_notes_and_the_last_one_is_found(world: World) -> None:
    _sent_world(world)
    notes = RunNotes(
        accounts=[AccountNote(account_id=1, platform="x", embassy_id="be-paris", handle="@a",
                              asked=2, error=CollectionError(kind="402", message="no credit"))],
        x_reads=2, x_cost_per_read=0.005, x_cost=0.01, x_max_cost=1.0,
    )  # fmt: skip
    with world.database.transaction() as session:
        assert last_run(session) is None
        older = start_run(session, DUE, trigger=COMMAND)
        save_notes(session, older, RunNotes(), finished_at=DUE)
        newer = start_run(session, DUE + HOUR, trigger="daemon", campaign_id="c")
        save_notes(session, newer, notes)
    with world.database.snapshot() as session:
        found = last_run(session)
    assert found is not None and found.id == newer and found.finished_at is None
    assert found.trigger == "daemon" and found.notes == notes
    assert [n.error.kind for n in found.notes.errors if n.error] == ["402"]


def test_notes_of_a_newer_format_are_refused(world: World) -> None:
    with world.database.transaction() as session:
        session.add(EngagementRun(started_at=DUE, trigger=COMMAND, notes={"v": 9}))
    with world.database.snapshot() as session, pytest.raises(SchemaMismatch, match="format 9"):
        last_run(session)
