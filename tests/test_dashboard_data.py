"""What the web dashboard shows (scheduler/service/dashboard.py), on SQLite and PostgreSQL.

One campaign of two embassies (Paris, Rome) on X and Mastodon, approval required, is synced and
run through the real paths: approvals, the dispatcher against the fakes (a rejected post, a
dropped answer), the housekeeper (a missed post, a revoked token), a claim, a retraction, a
cancel, pauses; then every page's data is read back.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from campaign_builders import image, post, write_campaign
from dispatch_world import CREATE, DUE, World, clock, fakes, world

from adapters.capabilities import CAPABILITIES, Platform
from scheduler.errors import UsageError
from scheduler.service import dashboard
from scheduler.service.control import Scope, pause
from scheduler.service.dashboard import DisplayState, ProblemKind
from scheduler.service.queue import approve_post, cancel_post, queue_add
from scheduler.service.retraction import retract
from scheduler.service.settlement import settle
from scheduler.service.validation import validate_file
from scheduler.settings import DaemonSettings, PlatformSettings, Settings
from scheduler.store import claims
from scheduler.views.pages import static
from scheduler.views.preview.html import render_cards

__all__ = ["clock", "fakes", "world"]  # fixtures

DAY1, DAY2 = dt.date(2026, 11, 25), dt.date(2026, 11, 26)
HOSTILE = "<script>alert('x')</script> Orange the World"
BOTH = ("x", "mastodon")
_EMB = ("be-paris", "be-rome")


def _post(post_id: str, *, day: int, time: str, where: str, **fields: object) -> dict[str, object]:
    return post(post_id, day=day, time=time, **{"targets": {"embassies": [where]}, **fields})


POSTS = [
    # Paris, day 1: X sent then retracted; Mastodon rejected (failed)
    _post("d1-paris", day=1, time="09:00", where="be-paris", images=[image()]),
    # Rome, day 1: X's answer lost (unknown), Mastodon sent
    _post("d1-rome", day=1, time="09:30", where="be-rome"),
    # Paris, day 1 at 08:00 with 15 minutes' grace: missed at 09:00
    _post(
        "d1-early",
        day=1,
        time="08:00",
        where="be-paris",
        late_grace="15m",
        targets={"embassies": ["be-paris"], "platforms": ["x"]},
    ),
    # Paris, day 1 at 10:00 on X: claimed by a daemon
    _post(
        "d1-claim",
        day=1,
        time="10:00",
        where="be-paris",
        targets={"embassies": ["be-paris"], "platforms": ["x"]},
    ),
    # Day 2: one left waiting for approval, one approved (scheduled or paused), one cancelled
    post("d2-wait", day=2, time="09:00", text={"en": HOSTILE}),
    post("d2-go", day=2, time="10:00"),
    post("d2-cancel", day=2, time="11:00"),
]


@dataclass
class Story:
    world: World
    settings: Settings


def _settings() -> Settings:
    fast = PlatformSettings(timeout=1.0)
    return Settings(
        platforms=dict.fromkeys(("x", "mastodon", "bluesky"), fast),  # type: ignore[misc]
        daemon=DaemonSettings(backoff="1s", retries=5),  # type: ignore[arg-type]
    )


@pytest.fixture
def story(world: World) -> Story:
    world.sync(POSTS, platforms=BOTH, cities=("be-paris", "be-rome"),
               policies={"approval": {"required": True}})  # fmt: skip
    database = world.database
    for post_id in ("d1-paris", "d1-rome", "d1-early", "d1-claim", "d2-go", "d2-cancel"):
        approve_post(database, post_id, approver="marc", now=DUE - dt.timedelta(days=1))
    world.platforms.mastodon.fail(422, {"error": "Validation failed"}, path=CREATE["mastodon"])
    world.dispatcher.housekeeping.sweep_missed()
    world.later(dt.timedelta(minutes=1))  # 09:00: Paris
    world.platforms.x.drop(path=CREATE["x"])
    world.later(dt.timedelta(minutes=30))  # 09:30: Rome
    world.clock.advance(dt.timedelta(minutes=30))  # 10:00: another daemon claims d1-claim
    with database.transaction() as session:
        taken = claims.claim_next(
            session, worker="other", now=world.clock.now(),
            lease=dt.timedelta(minutes=5), spacing=dt.timedelta(minutes=2),
        )  # fmt: skip
    assert taken is not None and taken.key.endswith("d1-claim/be-paris/x/1")
    settings = _settings()
    retract(database, settings, "d1-paris", actor="marc", reason="wrong number",
            now=world.clock.now())  # fmt: skip
    cancel_post(database, "d2-cancel", actor="ines", reason="duplicate", now=world.clock.now())
    return Story(world, settings)


def _states(data: dashboard.CalendarData) -> dict[tuple[str, str, str], DisplayState]:
    return {(e.post_id, e.embassy_id, e.platform): e.state for e in data.entries}


def test_every_display_state_is_where_expected(story: Story) -> None:
    database, now = story.world.database, story.world.clock.now()
    data = dashboard.calendar(database, start=DAY1, days=2, now=now)
    assert [row.day for row in data.rows] == [DAY1, DAY2]
    assert data.embassies == ["be-paris", "be-rome"]
    assert _states(data) == {
        ("d1-paris", "be-paris", "x"): DisplayState.RETRACTED,
        ("d1-paris", "be-paris", "mastodon"): DisplayState.FAILED,
        ("d1-rome", "be-rome", "x"): DisplayState.UNKNOWN,
        ("d1-rome", "be-rome", "mastodon"): DisplayState.SENT,
        ("d1-early", "be-paris", "x"): DisplayState.MISSED,
        ("d1-claim", "be-paris", "x"): DisplayState.SENDING,
        **{("d2-wait", e, p): DisplayState.AWAITING_APPROVAL for e in _EMB for p in BOTH},
        **{("d2-go", e, p): DisplayState.SCHEDULED for e in _EMB for p in BOTH},
        **{("d2-cancel", e, p): DisplayState.CANCELLED for e in _EMB for p in BOTH},
    }
    by_key = {(e.post_id, e.embassy_id, e.platform): e for e in data.entries}
    sent = by_key["d1-rome", "be-rome", "mastodon"]
    assert sent.url is not None and sent.url.startswith(("http://", "https://"))
    assert sent.account == "@be_rome@mastodon.example"
    assert by_key["d1-paris", "be-paris", "mastodon"].reason
    assert "missed" not in (by_key["d1-early", "be-paris", "x"].reason or "missed")
    first = by_key["d2-go", "be-paris", "x"]
    assert first.local_time == dt.datetime(2026, 11, 26, 10, 0) and first.timezone == "Europe/Paris"
    assert first.due_at == dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
    paris_day2 = data.rows[1].cells[0]
    assert paris_day2.embassy_id == "be-paris"
    assert {e.post_id for e in paris_day2.entries} == {"d2-wait", "d2-go", "d2-cancel"}


def test_paused_is_computed_from_an_embassy_and_a_platform_pause(story: Story) -> None:
    database, now = story.world.database, story.world.clock.now()
    pause(database, Scope(embassy_id="be-rome"), reason="local holiday", actor="ines", now=now)
    data = dashboard.calendar(database, start=DAY2, days=1, now=now)
    states = _states(data)
    assert states["d2-go", "be-rome", "x"] is DisplayState.PAUSED
    assert states["d2-go", "be-rome", "mastodon"] is DisplayState.PAUSED
    assert states["d2-go", "be-paris", "x"] is DisplayState.SCHEDULED
    # waiting for approval, or cancelled, is what it is whatever the pause
    assert states["d2-wait", "be-rome", "x"] is DisplayState.AWAITING_APPROVAL
    assert states["d2-cancel", "be-rome", "x"] is DisplayState.CANCELLED
    pause(database, Scope(platform="mastodon"), reason="instance down", actor="ines", now=now)
    states = _states(dashboard.calendar(database, start=DAY2, days=1, now=now))
    assert states["d2-go", "be-paris", "mastodon"] is DisplayState.PAUSED
    assert states["d2-go", "be-paris", "x"] is DisplayState.SCHEDULED


def test_filters_and_the_values_they_offer(story: Story) -> None:
    database, now = story.world.database, story.world.clock.now()
    data = dashboard.calendar(database, start=DAY1, days=2, platform="x", now=now)
    assert {e.platform for e in data.entries} == {"x"}
    assert data.filters.platforms == ["mastodon", "x"]
    assert data.filters.embassies == ["be-paris", "be-rome"]
    assert data.filters.languages == ["en"]
    assert DisplayState.PAUSED in data.filters.states and data.filters.platform == "x"
    rome = dashboard.calendar(database, start=DAY1, days=2, embassy="be-rome", now=now)
    assert rome.embassies == ["be-rome"] and {e.embassy_id for e in rome.entries} == {"be-rome"}
    assert [len(row.cells) for row in rome.rows] == [1, 1]
    waiting = dashboard.calendar(database, start=DAY1, days=2, state="awaiting_approval", now=now)
    assert {e.post_id for e in waiting.entries} == {"d2-wait"}
    failed = dashboard.calendar(database, start=DAY1, days=2, state="failed", now=now)
    assert [(e.post_id, e.platform) for e in failed.entries] == [("d1-paris", "mastodon")]
    english = dashboard.calendar(database, start=DAY1, days=2, language="en", now=now)
    assert len(english.entries) == len(dashboard.calendar(database, start=DAY1, days=2).entries)
    only_day2 = dashboard.calendar(database, start=DAY2, days=1, now=now)
    assert {e.post_id[:2] for e in only_day2.entries} == {"d2"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"days": 32}, "days: 32 is not between 1 and 31"),
        ({"days": 0}, "days: 0 is not between 1 and 31"),
        ({"state": "lost"}, "state: 'lost' is not a state"),
        ({"platform": "bluesky"}, "platform: no platform 'bluesky'"),
        ({"embassy": "be-oslo"}, "embassy: no embassy 'be-oslo'"),
        ({"campaign_id": "nope"}, "--campaign nope: no such campaign"),
    ],
)
def test_a_calendar_beyond_its_bounds_is_refused_by_name(
    story: Story, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        dashboard.calendar(story.world.database, **{"days": 7, **arguments})  # type: ignore[arg-type]


def test_problems_come_first_with_their_next_action(story: Story) -> None:
    world = story.world
    world.platforms.mastodon.revoke(world.platforms.mastodon.token_of("be_paris"))
    world.dispatcher.housekeeping.check_tokens()
    found = dashboard.problems(world.database, now=world.clock.now())
    kinds = [(item.kind, item.post_id, item.embassy_id, item.platform) for item in found]
    assert kinds == [
        (ProblemKind.FAILED, "d1-paris", "be-paris", "mastodon"),
        (ProblemKind.UNKNOWN, "d1-rome", "be-rome", "x"),
        (ProblemKind.MISSED, "d1-early", "be-paris", "x"),
        (ProblemKind.SUSPENDED, None, "be-paris", "mastodon"),
    ]
    failed, unknown, missed, suspended = found
    assert failed.reason and failed.account == "@be_paris@mastodon.example"
    assert failed.command == f"campaign settle {failed.key} --retry"
    assert "check whether it went out" in unknown.next_action
    assert "settled" not in unknown.next_action and "posted or not posted" in unknown.next_action
    assert (
        unknown.page == "/posts/d1-rome?campaign=orange-2026"
        and unknown.local_time == "2026-11-25T09:30"
    )
    assert missed.reason is not None and "grace" in missed.reason
    assert "renew the account's token" in suspended.next_action
    assert suspended.reason is not None and "CredentialsInvalid" in suspended.reason
    assert "campaign resume --embassy be-paris --platform mastodon" in suspended.command


def test_post_detail_of_a_file_post(story: Story) -> None:
    detail = dashboard.post_detail(story.world.database, "d1-paris", now=story.world.clock.now())
    assert (detail.origin, detail.version, detail.author) == ("file", 1, "ines")
    assert detail.approval_required and detail.two_person_rule and detail.approved
    assert [(a.approver, a.version, a.current) for a in detail.approvals] == [("marc", 1, True)]
    assert detail.definition.text is not None and "en" in detail.definition.text
    assert detail.definition.images[0].alt["en"] == "An orange banner."
    assert detail.definition.targets.embassies == ["be-paris"]
    assert detail.cancelled_at is not None  # retracting cancels what has not gone out
    by_platform = {d.platform: d for d in detail.deliveries}
    x, mastodon = by_platform["x"], by_platform["mastodon"]
    assert x.state is DisplayState.RETRACTED and x.remote_url and x.url == x.remote_url
    assert mastodon.state is DisplayState.FAILED and mastodon.error
    assert detail.definition.text["en"].startswith("{embassy} stands")  # as written
    assert x.text == "Embassy of Belgium in Paris stands with the campaign. (d1-paris)"  # as sent
    assert x.local_time == dt.datetime(2026, 11, 25, 9, 0) and x.due_at == DUE
    assert [m.alt for m in x.media] == ["An orange banner."]


def test_the_counts_against_limits_are_the_checks_counts(story: Story) -> None:
    detail = dashboard.post_detail(story.world.database, "d1-paris")
    for delivery in detail.deliveries:
        planned, counts = delivery.planned, delivery.counts
        capabilities = CAPABILITIES[Platform(delivery.platform)]
        assert counts.length == planned.length > 0
        assert counts.limit == planned.limit == capabilities.max_length
        assert counts.images == 1 and counts.max_images == capabilities.max_images
        assert [(a.length, a.limit) for a in counts.alts] == [
            (len("An orange banner."), capabilities.max_alt_text)
        ]
        assert not counts.over and counts.too_long is None


def test_a_text_over_the_limit_is_counted_as_the_checks_count(tmp_path: Path) -> None:
    """The counts of a delivery over X's limit, from the plan `campaign validate` checks."""
    path = write_campaign(tmp_path, posts=[post("long", text={"en": "word " * 80})])
    checked = validate_file(path)
    assert checked.plan is not None
    too_long = [p for p in checked.problems if p.code == "too-long"]
    counted = {d.platform: dashboard.limit_counts(d) for d in checked.plan.deliveries}
    x = counted[Platform.X]
    assert x.over and x.too_long == "at most 280" and x.length > x.limit == 280
    said = {(p.message.split(" ")[0], p.expected) for p in too_long}
    assert said == {
        (str(counts.length), counts.too_long) for counts in counted.values() if counts.over
    }


def test_post_detail_of_a_queued_post_with_its_approvals(story: Story) -> None:
    world = story.world
    database, now = world.database, world.clock.now()
    definition = {"id": "q-news", "text": {"en": "News from the embassy."}}
    change = queue_add(database, definition, actor="ines", folder=world.tmp_path, now=now)
    assert change.placement  # queued without a time: in the next free slots
    pending = dashboard.post_detail(database, "q-news", now=now)
    assert (pending.origin, pending.author, pending.approved) == ("queue", "ines", False)
    assert {d.state for d in pending.deliveries} == {DisplayState.AWAITING_APPROVAL}
    assert pending.placement == change.placement
    with pytest.raises(UsageError, match="two-person rule"):
        approve_post(database, "q-news", approver="ines", now=now)
    approve_post(database, "q-news", approver="marc", now=now)
    approved = dashboard.post_detail(database, "q-news", now=now)
    assert approved.approved and [a.approver for a in approved.approvals] == ["marc"]
    assert {d.state for d in approved.deliveries} == {DisplayState.SCHEDULED}
    assert {d.text for d in approved.deliveries} == {"News from the embassy."}
    with pytest.raises(UsageError, match="no post 'q-none'"):
        dashboard.post_detail(database, "q-none")


def test_next_free_slots_are_those_a_queued_post_would_take(story: Story) -> None:
    world = story.world
    database, now = world.database, world.clock.now()
    definition = {
        "id": "q-slot",
        "text": {"en": "Slot test."},
        "targets": {"embassies": ["be-rome"]},
    }
    slots = dashboard.next_free_slots(database, definition, now=now)
    assert list(slots) == ["be-rome"] and slots["be-rome"].utc > now
    change = queue_add(database, definition, actor="ines", folder=world.tmp_path, now=now)
    assert change.placement == {"be-rome": slots["be-rome"].local.isoformat(timespec="minutes")}
    assert dashboard.next_free_slots(database, {"targets": 3}, now=now) == {}
    half_filled = dashboard.next_free_slots(database, {"targets": {"platforms": ["x"]}}, now=now)
    assert sorted(half_filled) == ["be-paris", "be-rome"]
    assert half_filled["be-rome"].utc > slots["be-rome"].utc  # q-slot took the first one


def test_cards_show_each_delivery_and_keep_hostile_text_inert(story: Story) -> None:
    database = story.world.database
    detail = dashboard.post_detail(database, "d2-wait")
    fragment = str(render_cards(detail.planned, {}))
    assert fragment.count('<article class="card p-x') == 2
    assert fragment.count('<article class="card p-mastodon') == 2
    for account in ("@be_paris", "@be_rome", "@be_paris@mastodon.example"):
        assert account in fragment
    assert "<script>" not in fragment and "&lt;script&gt;" in fragment
    # the preview's style sheet for the cards, which a page showing them links
    assert all(f"{rule}{{" in static("cards.css") for rule in (".card", ".card-head", "figure"))
    with_image = dashboard.post_detail(database, "d1-paris")
    sha = with_image.deliveries[0].media[0].sha256
    cards = str(render_cards(with_image.planned, {sha: f"/media/{sha}"}))
    assert cards.count(f'<img src="/media/{sha}" alt="An orange banner."') == 2
    assert '<span class="alt-body" dir="auto">An orange banner.</span>' in cards
    assert "cannot be read" not in cards
    assert "media/card.png cannot be read" in str(render_cards(with_image.planned, {}))
    stored = dashboard.media_bytes(database, sha)
    assert stored is not None and stored[0] == "image/png" and stored[1][:4] == b"\x89PNG"
    assert dashboard.media_bytes(database, "0" * 64) is None


def test_only_an_http_address_is_offered_as_a_link(story: Story) -> None:
    database, now = story.world.database, story.world.clock.now()
    key = "orange-2026/d1-rome/be-rome/x/1"
    settle(database, key, "posted", actor="marc", url="javascript:alert(1)", now=now)
    data = dashboard.calendar(database, start=DAY1, days=1, embassy="be-rome", now=now)
    entry = next(e for e in data.entries if e.key == key)
    assert entry.state is DisplayState.SENT and entry.url is None
    detail = dashboard.post_detail(database, "d1-rome")
    x = next(d for d in detail.deliveries if d.key == key)
    assert x.remote_url == "javascript:alert(1)" and x.url is None
