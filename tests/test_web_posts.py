"""The posts pages over real HTTP, on SQLite and PostgreSQL: the list (awaiting approval first),
one post (its cards, counts, images, deliveries, approvals), approving (the two-person rule,
twice, an out-of-date version) and cancelling (a reason, twice, copies already sent), for every
role and nobody; what they did shows in the CLI's listing and the audit log under the user's
name. The states of a campaign that has run come from tests/test_dashboard_data.py's story."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import httpx
import pytest
from campaign_builders import image, post, write_campaign
from click.testing import CliRunner
from dispatch_world import clock, fakes, world
from sqlalchemy import select
from test_dashboard_data import HOSTILE, Story, story
from web_fixtures import USER_NAMES, Login, WebClient, WebClock, WebServer

from scheduler.cli import main
from scheduler.service import dashboard
from scheduler.service.queue import approve_post, queue_add
from scheduler.service.sync import sync_file
from scheduler.service.users import Role
from scheduler.store.database import Database
from scheduler.store.schema import AuditEntry, Delivery

__all__ = ["clock", "fakes", "story", "world"]  # fixtures

ROLES = ("author", "approver", "admin")
USER = {role: USER_NAMES[Role(role)] for role in ROLES}
REASON = "wrong date in the text"


@pytest.fixture
def waiting(tmp_path: Path, database: Database, web_clock: WebClock) -> str:
    """The builders' campaign under approval, with a post with an image and a hostile one,
    synced by ines; its id."""
    posts = [
        post("launch"),
        post("banner", day=2, images=[image()]),
        post("hostile", day=3, text={"en": HOSTILE, "fr": HOSTILE, "ja": HOSTILE}),
    ]
    path = write_campaign(
        tmp_path / "campaign", posts=posts, policies={"approval": {"required": True}}
    )
    sync_file(path, database, actor="ines", now=web_clock.now())
    return "orange-2026"


def _after(client: WebClient, response: httpx.Response) -> str:
    """The flash message that the page a POST redirected to shows."""
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    found = re.search(r'<span class="flash-kind">Done:</span> (.*?)</p>', page.text)
    assert found, page.text
    return html.unescape(found[1])


def _audit(database: Database, action: str) -> list[tuple[str, str | None, dict[str, object]]]:
    with database.snapshot() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return [(row.actor, row.subject, dict(row.details)) for row in rows]


def _listed(database_url: str) -> dict[str, dict[str, int]]:
    """Each post's copies by state, as `campaign queue list --all --json` says."""
    result = CliRunner().invoke(
        main, ["queue", "list", "--all", "--json", "--database", database_url]
    )
    assert result.exit_code == 0, result.output
    return {row["id"]: row["states"] for row in json.loads(result.output)}


def _status_states(database_url: str) -> dict[str, int]:
    """The deliveries by state, as `campaign status --json` says."""
    result = CliRunner().invoke(main, ["status", "--json", "--database", database_url])
    assert result.exit_code == 0, result.output
    states: dict[str, int] = json.loads(result.output)["states"]
    return states


def _states(database: Database, post_id: str) -> set[str]:
    return {str(d.stored_state) for d in dashboard.post_detail(database, post_id).deliveries}


# --- every route, every role ----------------------------------------------------------------------


def test_nobody_logged_in_is_sent_to_log_in_and_may_not_act(
    web: WebServer, waiting: str, database: Database
) -> None:
    visitor = web.client()
    for path in ("/posts", "/posts/launch"):
        answer = visitor.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    for action, data in (("approve", {}), ("cancel", {"reason": REASON})):
        refused = visitor.post_form(f"/posts/launch/{action}", {**data, "csrf_token": "x"})
        assert refused.status_code == 403
    assert _states(database, "launch") == {"awaiting_approval"}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_posts_and_acts_as_its_role_allows(
    web_login: Login, waiting: str, database: Database, role: str
) -> None:
    client = web_login(role)
    listing = client.get("/posts")
    assert listing.status_code == 200
    assert '<li><a href="/posts" aria-current="page">Posts</a></li>' in listing.text  # the menu
    page = client.get("/posts/launch")
    assert page.status_code == 200 and "Preview before approving" in page.text
    approve = client.post_form("/posts/launch/approve", {"version": "1"})
    if role == "author":
        assert approve.status_code == 403
        assert "approver role" in approve.text
        assert "Approving needs the approver role; you are logged in as author." in page.text
        assert "Approve version 1" not in page.text
        assert _states(database, "launch") == {"awaiting_approval"}
    else:
        assert "Approve version 1</button>" in page.text
        assert "approved by" in _after(client, approve)
        assert _states(database, "launch") == {"scheduled"}
    cancelled = client.post_form("/posts/banner/cancel", {"reason": REASON})
    assert "cancelled" in _after(client, cancelled)
    assert _states(database, "banner") == {"cancelled"}
    assert _audit(database, "cancel") == [(USER[role], "banner", {"reason": REASON})]


# --- the list ------------------------------------------------------------------------------------


def test_the_list_puts_what_awaits_approval_first(
    web_login: Login, waiting: str, database: Database, web_clock: WebClock
) -> None:
    approve_post(database, "launch", approver="ben", now=web_clock.now())
    page = web_login("author").get("/posts").text
    rows = re.findall(r'<th scope="row"><a href="/posts/([\w-]+)">', page)
    assert rows == ["banner", "hostile", "launch"]  # awaiting (by first due), then the rest
    assert "2 posts awaiting approval" in page
    assert '<span class="badge state-scheduled">' in page
    assert "2026-11-25 09:00 Asia/Tokyo" in page  # launch's first copy, local time and zone
    assert "&lt;script&gt;" in page and "<script>alert" not in page


# --- one post ------------------------------------------------------------------------------------


def test_the_post_view_draws_a_card_for_each_delivery(
    web_login: Login, waiting: str, database: Database
) -> None:
    client = web_login("approver")
    detail = dashboard.post_detail(database, "banner")
    page = client.get("/posts/banner").text
    for platform in ("x", "mastodon", "bluesky"):
        expected = sum(d.platform == platform for d in detail.deliveries)
        assert expected and page.count(f'<article class="card p-{platform}') == expected
    sha = detail.deliveries[0].media[0].sha256
    assert f'<img src="/media/{sha}" alt="An orange banner."' in page
    assert '<link rel="stylesheet" href="/static/cards.css">' in page
    assert page.index("/static/cards.css") < page.index("/static/web.css")
    assert "--mastodon:#6364ff" in page  # the cards' palette
    assert "Alt text, en (17 characters)" in page and "Une banniere orange." in page
    assert "Every copy is within its platform's limits." in page
    for delivery in detail.deliveries:
        assert f"{delivery.counts.length} / {delivery.counts.limit} characters" in page
    assert "This campaign requires approval" in page and "Two-person rule" in page
    assert "Nobody has approved this post." in page


def test_hostile_text_stays_text(web_login: Login, waiting: str) -> None:
    page = web_login("approver").get("/posts/hostile").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Orange the World" in page


def test_an_unknown_post_is_a_404(web_login: Login, waiting: str) -> None:
    client = web_login("admin")
    missing = client.get("/posts/no-such-post")
    assert missing.status_code == 404 and "no post &#x27;no-such-post&#x27;" in missing.text
    for action in ("approve", "cancel"):
        assert (
            client.post_form(f"/posts/no-such-post/{action}", {"reason": REASON}).status_code == 404
        )


def test_the_file_post_says_where_it_is_edited_and_a_queued_one_links_the_form(
    web_login: Login, web: WebServer, waiting: str, database: Database, web_clock: WebClock
) -> None:
    client = web_login("author")
    page = client.get("/posts/launch").text
    assert "This post comes from the campaign file" in page and "campaign sync FILE" in page
    assert "/posts/launch/edit" not in page
    queue_add(database, {"id": "q-news", "text": {"en": "News."}}, actor="ana",
              folder=Path("."), now=web_clock.now())  # fmt: skip
    queued = client.get("/posts/q-news").text
    assert 'href="/posts/q-news/edit"' in queued


def test_a_stored_copy_over_its_limit_is_flagged_in_words(
    web_login: Login, waiting: str, database: Database
) -> None:
    with database.transaction() as session:
        row = session.scalars(
            select(Delivery).where(Delivery.post_id == "launch", Delivery.platform == "x")
        ).first()
        assert row is not None
        row.payload = {**row.payload, "length": 400}
    page = web_login("approver").get("/posts/launch").text
    assert "1 copy is over a platform's limit" in page
    assert "Over the limit:</strong> text 400, at most 280." in page
    assert '<span class="count over">' in page  # the card's meter says so too


# --- approving -----------------------------------------------------------------------------------


def test_an_approval_shows_in_the_cli_and_the_audit_log(
    web_login: Login, waiting: str, database: Database, database_url: str
) -> None:
    ben = web_login("approver")
    assert _listed(database_url)["launch"] == {"awaiting_approval": 7}
    before = _status_states(database_url)
    done = ben.post_form("/posts/launch/approve", {"version": "1"})
    assert done.headers["location"] == "/posts/launch"
    message = _after(ben, done)
    assert message.startswith("Post launch version 1 approved by ben; 7 deliveries scheduled.")
    assert _listed(database_url)["launch"] == {"scheduled": 7}
    after = _status_states(database_url)
    assert after["awaiting_approval"] == before["awaiting_approval"] - 7
    assert after["scheduled"] == before["scheduled"] + 7
    assert _audit(database, "approve") == [("ben", "launch", {"version": 1})]
    page = ben.get("/posts/launch").text
    assert "<td>ben</td>" in page and "yes: the current version" in page
    assert "Version 1 is approved (by ben): nothing to do." in page


def test_approving_twice_changes_nothing_and_says_so(
    web_login: Login, waiting: str, database: Database
) -> None:
    ben, ada = web_login("approver"), web_login("admin")
    _after(ben, ben.post_form("/posts/launch/approve", {"version": "1"}))
    again = ada.post_form("/posts/launch/approve", {"version": "1"})
    assert _after(ada, again) == (
        "Post launch version 1 was already approved by ben; nothing changed."
    )
    assert [actor for actor, *_ in _audit(database, "approve")] == ["ben"]


def test_a_campaign_without_approval_has_nothing_to_approve(
    web_login: Login, synced_campaign: str
) -> None:
    page = web_login("approver").get("/posts/launch").text
    assert "This campaign does not require approval." in page
    assert "This campaign does not require approval: the post goes out without it." in page
    assert "Approve version" not in page and "awaiting approval</span>" not in page


def test_an_out_of_date_version_is_not_approved_unread(
    web_login: Login, waiting: str, database: Database
) -> None:
    refused = web_login("approver").post_form("/posts/launch/approve", {"version": "2"})
    assert refused.status_code == 409
    assert "it is now version 1" in refused.text
    assert _states(database, "launch") == {"awaiting_approval"}


def test_the_two_person_rule_refuses_the_author_in_words(
    web_login: Login, waiting: str, database: Database, web_clock: WebClock
) -> None:
    queue_add(database, {"id": "q-ben", "text": {"en": "Written by ben."}}, actor="ben",
              folder=Path("."), now=web_clock.now())  # fmt: skip
    ben = web_login("approver")
    page = ben.get("/posts/q-ben").text
    assert "You wrote version 1: the campaign&#x27;s two-person rule" in page
    assert "Approve version 1</button>" not in page
    refused = ben.post_form("/posts/q-ben/approve", {"version": "1"})
    assert refused.status_code == 403
    assert (
        "post q-ben version 1 was written by ben; the campaign&#x27;s two-person rule needs "
        "someone else to approve it" in refused.text
    )
    assert 'role="alert"' in refused.text and "Preview before approving" in refused.text
    assert _states(database, "q-ben") == {"awaiting_approval"}
    ada = web_login("admin")
    assert "approved by ada" in _after(ada, ada.post_form("/posts/q-ben/approve", {}))


def test_approving_late_says_which_copies_go_late_or_are_missed(
    web_login: Login, waiting: str, web_clock: WebClock
) -> None:
    web_clock.advance(dt.timedelta(days=1, hours=1))  # launch (day 1) is past, within or beyond
    ben = web_login("approver")
    message = _after(ben, ben.post_form("/posts/launch/approve", {"version": "1"}))
    assert "already past due:" in message and ("late" in message or "missed" in message)


def test_a_form_without_its_csrf_token_is_refused(
    web_login: Login, waiting: str, database: Database
) -> None:
    ada = web_login("admin")
    for action, data in (("approve", {"version": "1"}), ("cancel", {"reason": REASON})):
        refused = ada.post_form(f"/posts/launch/{action}", data, csrf=False)
        assert refused.status_code == 403
    assert _states(database, "launch") == {"awaiting_approval"}


# --- cancelling ----------------------------------------------------------------------------------


def test_cancelling_needs_a_reason_and_a_second_time_changes_nothing(
    web_login: Login, waiting: str, database: Database
) -> None:
    ana = web_login("author")
    refused = ana.post_form("/posts/launch/cancel", {"reason": "  "})
    assert refused.status_code == 400
    assert 'class="field-error" id="cancel-error">reason: say why' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert _states(database, "launch") == {"awaiting_approval"}
    done = _after(ana, ana.post_form("/posts/launch/cancel", {"reason": REASON}))
    assert done == "Post launch cancelled: 7 copies will not go out."
    assert _states(database, "launch") == {"cancelled"}
    page = ana.get("/posts/launch").text
    assert "The post is cancelled already" in page and "Cancel post</button>" not in page
    again = _after(ana, ana.post_form("/posts/launch/cancel", {"reason": "again"}))
    assert again.startswith("Post launch was already cancelled (") and "nothing changed" in again
    assert [d["reason"] for *_, d in _audit(database, "cancel")] == [REASON]


# --- a campaign that has run ---------------------------------------------------------------------


def test_states_links_and_copies_already_sent(
    story: Story, web_login: Login, web_clock: WebClock, database: Database
) -> None:
    web_clock.instant = story.world.clock.now()
    ben = web_login("approver")
    rome = ben.get("/posts/d1-rome").text
    detail = dashboard.post_detail(database, "d1-rome")
    sent = next(d for d in detail.deliveries if d.platform == "mastodon")
    assert sent.url is not None
    assert f'<a href="{sent.url}" rel="noopener noreferrer">open the post</a>' in rome
    assert '<span class="badge state-sent">sent</span>' in rome
    assert '<span class="badge state-unknown">unknown outcome</span>' in rome
    paris = ben.get("/posts/d1-paris").text
    assert '<span class="badge state-retracted">retracted</span>' in paris
    assert '<span class="badge state-failed">failed</span>' in paris
    assert "deleted from the platform" in paris
    cancelled = _after(ben, ben.post_form("/posts/d1-rome/cancel", {"reason": REASON}))
    assert cancelled.startswith("Post d1-rome cancelled: 0 copies will not go out. 1 copy")
    assert "stay on the platforms (cancelling deletes nothing)" in cancelled
    after = ben.get("/posts/d1-rome").text
    assert "Copies already sent" in after and "campaign retract d1-rome" in after
    listing = ben.get("/posts").text
    assert listing.index("/posts/d2-wait") < listing.index("/posts/d1-paris")
