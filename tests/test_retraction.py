"""`campaign retract`: each copy deleted from its platform becomes `retracted` with who, when
and why; the team hears who and why; and nothing ever sends a retracted copy again.

The posts go out through the dispatcher on a stepped clock, to the fakes over HTTP
(tests/dispatch_world.py); `campaign retract` and `campaign settle` run as the CLI, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from campaign_builders import embassy, post, write_campaign
from click.testing import CliRunner, Result
from dispatch_world import CREATE, DUE, World, clock, fakes, world
from sqlalchemy import select

from scheduler.cli import EXIT_USAGE, main
from scheduler.service import queue, retraction, sync
from scheduler.settings import load_settings
from scheduler.store.schema import Alert, AuditEntry, Delivery

__all__ = ["clock", "fakes", "world"]  # fixtures, used by name

PLATFORMS = ("x", "mastodon", "bluesky")
TEXT = "Know the signs of digital violence: call 1712."


@pytest.fixture
def sent(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """One post, sent at 09:00 in Paris on each platform."""
    monkeypatch.delenv("CAMPAIGN_CONFIG", raising=False)
    world.sync([post("launch", time="09:00", text={"en": TEXT})], platforms=PLATFORMS)
    world.clock.advance_to(DUE)
    world.send()
    assert world.states() == ["sent"] * 3
    assert len(world.platforms.posted_texts()) == 3
    return world


def _cli(world: World, *args: str) -> Result:
    url = world.database.engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(main, [*args, "--database", url], prog_name="campaign")


def _alerts(world: World) -> list[tuple[str, str]]:
    with world.database.snapshot() as session:
        return [(a.kind, a.message) for a in session.scalars(select(Alert).order_by(Alert.id))]


def test_retract_records_who_when_and_why_and_keeps_the_dead_url(sent: World) -> None:
    urls = sorted(row.remote_url or "" for row in sent.rows())
    result = _cli(sent, "retract", "launch", "--yes", "--reason", "wrong helpline", "--as", "marc")
    assert result.exit_code == 0, result.output
    assert "launch: 3 deleted, 0 not deleted" in result.output
    assert sent.platforms.posted_texts() == []  # gone from every platform
    rows = sent.rows()
    assert {(r.state, r.retracted_by, r.retraction_reason) for r in rows} == {
        ("retracted", "marc", "wrong helpline")
    }
    assert sorted(r.remote_url or "" for r in rows) == urls  # kept, for the record
    assert all(r.retracted_at is not None and r.state_since == r.retracted_at for r in rows)
    assert ("retracted", "launch: retracted by marc (reason: wrong helpline); 3 sent copies "
            "deleted") in _alerts(sent)  # fmt: skip
    with sent.database.snapshot() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "retract")).all()
    assert {(a.actor, a.details["reason"], a.details["outcome"]) for a in audit} == {
        ("marc", "wrong helpline", "deleted")
    }
    status = _cli(sent, "status")
    assert "Retracted (deleted from the platforms)" in status.output
    assert "wrong helpline" in status.output


@pytest.mark.parametrize("reason", [None, "   "])
def test_retract_without_a_reason_is_refused_before_anything_is_deleted(
    sent: World, reason: str | None
) -> None:
    given = [] if reason is None else ["--reason", reason]
    result = _cli(sent, "retract", "launch", "--yes", *given, "--as", "marc")
    assert result.exit_code == EXIT_USAGE, result.output
    assert "--reason" in result.output
    assert sent.states() == ["sent"] * 3
    assert len(sent.platforms.posted_texts()) == 3


def test_a_copy_that_could_not_be_deleted_stays_sent_until_a_second_retract(
    sent: World,
) -> None:
    sent.platforms.mastodon.fail(500, method="DELETE", times=None)
    first = _cli(sent, "retract", "launch", "--yes", "--reason", "wrong helpline", "--as", "marc")
    assert first.exit_code == 1, first.output
    by_platform = {row.platform: row.state for row in sent.rows()}
    assert by_platform == {"x": "retracted", "mastodon": "sent", "bluesky": "retracted"}
    kind, message = _alerts(sent)[-1]
    assert kind == "retracted" and message.startswith(
        "launch: retracted by marc (reason: wrong helpline); 2 sent copies deleted, 1 not "
        "deleted: orange-2026/launch/be-paris/mastodon/1"
    )
    sent.platforms.mastodon.faults.clear()
    again = _cli(sent, "retract", "launch", "--yes", "--reason", "still wrong", "--as", "ines")
    assert again.exit_code == 0, again.output
    assert "launch: 1 deleted, 0 not deleted" in again.output  # only the copy still sent
    reasons = {row.platform: (row.retracted_by, row.retraction_reason) for row in sent.rows()}
    assert reasons == {
        "x": ("marc", "wrong helpline"),
        "mastodon": ("ines", "still wrong"),
        "bluesky": ("marc", "wrong helpline"),
    }


def test_nothing_ever_sends_a_retracted_copy_again(sent: World, tmp_path: Path) -> None:
    """Not the dispatcher, not reconciliation, not a sync of an edited file, not a person's
    settle: a retracted copy stays retracted and off the platforms."""
    moment = sent.clock.now() + dt.timedelta(minutes=10)
    sent.clock.advance_to(moment)
    done = retraction.retract(sent.database, load_settings(None), "launch", actor="marc",
                           reason="wrong helpline", now=moment)  # fmt: skip
    assert [item.outcome for item in done] == ["deleted"] * 3
    assert {(row.state, row.retracted_at) for row in sent.rows()} == {("retracted", moment)}
    requests = {name: len(getattr(sent.platforms, name).requests) for name in PLATFORMS}
    # The file again, the post edited; and time passing for the dispatcher and reconciliation.
    cities = [embassy("be-paris", "Europe/Paris", ["en"], platforms=PLATFORMS)]
    edited = post("launch", time="09:00", text={"en": TEXT + " Or 1813."})
    path = write_campaign(tmp_path / "again", embassies=cities, posts=[edited],
                          policies={"late": {"grace": "3h", "spacing": "2m"}})  # fmt: skip
    sync.sync_file(path, sent.database, actor="ines", now=moment)
    for _ in range(3):
        sent.later(dt.timedelta(minutes=30))
        sent.settle()
    for decision in ("--not-posted", "--retry", "--give-up"):
        key = sent.rows()[0].key
        refused = _cli(sent, "settle", key, decision, "--as", "ines")
        assert refused.exit_code == EXIT_USAGE, refused.output
        assert f"{key} is retracted" in refused.output
    assert sent.states() == ["retracted"] * 3
    assert sent.platforms.posted_texts() == []
    after = {name: len(getattr(sent.platforms, name).requests) for name in PLATFORMS}
    assert after == requests  # not one more call to any platform
    with sent.database.snapshot() as session:
        attempts = session.scalars(select(Delivery.attempt_count)).all()
    assert attempts == [1, 1, 1]


# --- a post cancelled while one of its copies' outcome was open ---------------------------------


@pytest.fixture
def open_outcome(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """One post on Mastodon whose create request was dropped: sent or not, nobody knows yet."""
    monkeypatch.delenv("CAMPAIGN_CONFIG", raising=False)
    world.sync([post("launch", time="09:00", text={"en": TEXT})], platforms=("mastodon",))
    world.platforms.mastodon.drop(path=CREATE["mastodon"])
    world.clock.advance_to(DUE)
    world.send()
    assert world.states() == ["unknown"]
    assert world.platforms.posted_texts() == []
    queue.cancel_post(world.database, "launch", actor="marc", reason="wrong helpline",
                        now=world.clock.now())  # fmt: skip
    assert world.states() == ["unknown"]  # possibly on the platform: left for reconciliation
    return world


def test_reconciled_as_not_posted_after_its_post_was_cancelled_it_is_never_sent(
    open_outcome: World,
) -> None:
    """Before: reconciliation put it back on the schedule, and the next round posted the
    cancelled text."""
    assert open_outcome.settle() == 1
    for _ in range(3):
        open_outcome.later(dt.timedelta(minutes=10))
    [row] = open_outcome.rows()
    assert (row.state, row.error_message) == (
        "cancelled",
        "not sent: its post was cancelled before it was settled",
    )
    assert open_outcome.platforms.posted_texts() == []


def test_settled_as_not_posted_after_its_post_was_cancelled_it_is_never_sent(
    open_outcome: World,
) -> None:
    key = open_outcome.rows()[0].key
    settled = _cli(open_outcome, "settle", key, "--not-posted", "--as", "ines")
    assert settled.exit_code == 0, settled.output
    assert "cancelled" in settled.output
    open_outcome.later(dt.timedelta(minutes=10))
    assert open_outcome.states() == ["cancelled"]
    assert open_outcome.platforms.posted_texts() == []
