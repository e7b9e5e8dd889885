"""Queueing and editing posts from the dashboard, over real HTTP on SQLite and PostgreSQL:
the form, the live check (which writes nothing and finds what `campaign queue add` finds),
images uploaded with their alt text, the edit of a queued post, and what is refused."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from campaign_builders import write_campaign
from click.testing import CliRunner
from PIL import Image
from store_dump import dump
from web_fixtures import START, Login, WebClient, WebServer

from scheduler.cli import main
from scheduler.service import dashboard, queue
from scheduler.service.sync import sync_file
from scheduler.service.users import Role
from scheduler.store.database import Database
from scheduler.web.queue import MAX_UPLOAD

CAMPAIGN = "orange-2026"
ROLES = ("author", "approver", "admin")
TOO_LONG_FOR_X = "{embassy} " + "stands with survivors " * 14  # about 320 characters


@pytest.fixture
def approval_campaign(tmp_path: Path, database: Database) -> str:
    """The builders' campaign, where every post needs a second person's approval."""
    path = write_campaign(tmp_path / "campaign", policies={"approval": {"required": True}})
    sync_file(path, database, actor="ines", now=START)
    return CAMPAIGN


def _png(color: tuple[int, int, int] = (255, 120, 0)) -> bytes:
    stream = io.BytesIO()
    Image.new("RGB", (16, 9), color).save(stream, format="PNG")
    return stream.getvalue()


def _post(
    client: WebClient,
    path: str,
    fields: dict[str, Any],
    files: dict[str, tuple[str, bytes, str]] | None = None,
    *,
    csrf: bool = True,
) -> httpx.Response:
    """The form as a browser sends it: multipart, with the page's CSRF token."""
    if csrf:
        if client.csrf is None:
            client.get("/queue/new")
        fields = {"csrf_token": client.csrf, **fields}
    return client.request("POST", path, data=fields, files=files or {"image_1": ("", b"", "")})


def _flash(client: WebClient) -> str:
    return unquote(client.cookies.get("campaign_flash", ""))


def _errors(response: httpx.Response) -> dict[str, str]:
    """Field name -> its error text, as the re-rendered form shows them."""
    found = re.findall(r'<p class="field-error" id="([^"]+)-error">(.*?)</p>', response.text)
    return {name: html.unescape(text) for name, text in found}


def _stored(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table but the sessions (each request moves a session's last-seen time)."""
    return {name: rows for name, rows in dump(database).items() if name != "web_sessions"}


def _audit(database: Database) -> list[tuple[str, str, str | None]]:
    return [(row[2], row[3], row[5]) for row in dump(database)["audit_log"]]


# --- who may ----------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in_and_refused_posts(
    web: WebServer, approval_campaign: str
) -> None:
    anonymous = web.client()
    for path in ("/queue/new", "/posts/anything/edit"):
        response = anonymous.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    for path in ("/queue", "/queue/check", "/posts/anything/edit"):
        assert _post(anonymous, path, {"text_en": "hi"}, csrf=False).status_code == 403
    assert queue.list_posts(web.database, CAMPAIGN) == []


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_queue_check_and_edit(
    role: str, web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    client = web_login(role)
    form = client.get("/queue/new")
    assert form.status_code == 200
    for name in ("text_en", "text_ja", "text_fr", "content_warning_fr", "image_4", "alt_4_ja"):
        assert f'name="{name}"' in form.text
    assert 'type="file" accept="image/jpeg,image/png,image/gif,image/webp"' in form.text
    assert ">Queue post</button>" in form.text
    live = _post(client, "/queue/check", {"text_en": f"{{embassy}} with {role}"})
    assert live.status_code == 200
    assert "No problems found" in live.text
    done = _post(client, "/queue", {"text_en": f"{{embassy}} with {role}", "id": f"by-{role}"})
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/posts/by-{role}"
    edit = client.get(f"/posts/by-{role}/edit")
    assert edit.status_code == 200
    assert ">Save changes</button>" in edit.text
    saved = _post(client, f"/posts/by-{role}/edit", {"text_en": f"{{embassy}} still with {role}"})
    assert saved.status_code == 303


# --- queueing ---------------------------------------------------------------------------------


def test_queue_in_the_next_free_slot(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    author = web_login("author")
    fields = {"text_en": "{embassy} is with you.", "when": "next", "embassy": "be-paris"}
    done = _post(author, "/queue", {**fields, "id": "slot-post"})
    assert done.status_code == 303, done.text
    flash = _flash(author)
    assert "Queued post slot-post (version 1): awaiting approval" in flash
    assert "next free slot (local time): be-paris 2026-11-25 " in flash
    definition = queue.queued_definition(web.database, "slot-post")
    assert definition == {
        "id": "slot-post",
        "text": {"en": "{embassy} is with you."},
        "targets": {"embassies": ["be-paris"]},
    }
    assert ("ana", "queue add", "slot-post") in _audit(web.database)


def test_queue_at_a_local_time_and_the_check_names_the_slots_only_for_next(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    author = web_login("author")
    fields = {"text_en": "{embassy} at ten.", "when": "at", "at": "2026-11-27T10:00"}
    live = _post(author, "/queue/check", fields)
    assert "Next free slot" not in live.text
    assert "Next free slot" in _post(author, "/queue/check", {**fields, "when": "next"}).text
    done = _post(author, "/queue", {**fields, "id": "at-ten"})
    assert done.status_code == 303, done.text
    definition = queue.queued_definition(web.database, "at-ten")
    assert (definition["date"], definition["time"]) == ("2026-11-27", "10:00")
    detail = dashboard.post_detail(web.database, "at-ten")
    assert {d.local_time.strftime("%H:%M") for d in detail.deliveries} == {"10:00"}


def test_queue_with_an_image_and_its_alt_text(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    author = web_login("author")
    data = _png()
    fields = {"text_en": "{embassy} shows a card.", "alt_1_en": "An orange card.", "id": "card"}
    done = _post(author, "/queue", fields, {"image_1": ("../My Card!.png", data, "image/png")})
    assert done.status_code == 303, done.text
    image = queue.queued_definition(web.database, "card")["images"][0]
    assert image["alt"] == {"en": "An orange card."}
    assert re.fullmatch(r"[0-9a-f]{12}-My-Card-\.png", image["file"])  # no folder, safe letters
    detail = dashboard.post_detail(web.database, "card")
    sha256 = detail.deliveries[0].media[0].sha256
    assert dashboard.media_bytes(web.database, sha256) == ("image/png", data)


def test_a_text_over_x_limit_is_refused_at_its_field_and_nothing_is_stored(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    author = web_login("author")
    before = _stored(web.database)
    refused = _post(author, "/queue", {"text_en": TOO_LONG_FOR_X, "platform": "x"})
    assert refused.status_code == 400
    errors = _errors(refused)
    assert "280" in errors["text_en"]
    assert re.search(r'<textarea id="text_en" name="text_en" rows="5" aria-invalid="true" '
                     r'aria-describedby="text_en-help text_en-error">', refused.text)  # fmt: skip
    assert '<a href="#text_en">' in refused.text  # the summary links to the field
    assert f">{TOO_LONG_FOR_X.strip()}</textarea>" in refused.text  # the text is kept
    assert 'value="x" checked' in refused.text
    assert _stored(web.database) == before


def test_the_check_finds_problems_and_writes_nothing(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    author = web_login("author")
    before = _stored(web.database)
    live = _post(author, "/queue/check", {"text_en": TOO_LONG_FOR_X, "id": "launch"})
    assert live.status_code == 200
    assert "<html" not in live.text  # a fragment, for htmx to swap in
    assert "a post with this id already exists" in live.text
    assert re.search(r"<td>x</td>\s*<td>en</td>\s*<td>\d+ / 280 <strong>✕ too long", live.text)
    assert _stored(web.database) == before


def test_the_check_finds_what_campaign_queue_add_finds(
    web: WebServer, web_login: Login, approval_campaign: str, database_url: str
) -> None:
    author = web_login("author")
    fields = {"text_en": TOO_LONG_FOR_X, "replies": "following", "id": "same", "when": "at"}
    fields["at"] = "2026-11-28T10:00"  # the CLI's clock is the wall clock: no free slots
    live = _post(author, "/queue/check", fields)
    shown = [html.unescape(m) for m in re.findall(r"<li class=\"problem\">(.*?)</li>", live.text)]
    args = ["queue", "add", "--text", f"en={TOO_LONG_FOR_X.strip()}", "--replies", "following"]
    args += ["--at", "2026-11-28 10:00", "--id", "same", "--database", database_url]
    cli = CliRunner().invoke(main, args)
    assert cli.exit_code == 1, cli.output
    printed = [line for line in cli.output.splitlines() if ": error: " in line]
    assert printed and len(printed) == sum(item.startswith("<strong>Error") for item in shown)
    for line in printed:
        message = line.split(": error: ", 1)[1].split(": ", 1)[1]
        assert any(message in html.unescape(re.sub(r"<[^>]+>", "", s)) for s in shown), (
            line,
            shown,
        )


def test_a_time_past_the_grace_is_refused(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    web.clock.advance(START.replace(day=26, hour=12) - START)  # 26 Nov, 12:00 UTC
    author = web_login("author")
    fields = {"text_en": "{embassy} too late.", "when": "at", "at": "2026-11-26T08:00"}
    refused = _post(author, "/queue", fields)
    assert refused.status_code == 400
    assert "would be due more than the grace" in _errors(refused)["at"]
    assert "give no time for the next free slots" in _errors(refused)["at"]
    assert queue.list_posts(web.database, CAMPAIGN) == []


# --- editing ----------------------------------------------------------------------------------


def test_an_edit_is_a_new_version_that_needs_approval_again(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    author, approver = web_login("author"), web_login("approver")
    fields = {"text_en": "{embassy} first.", "id": "edited", "alt_1_en": "A card."}
    png = {"image_1": ("card.png", _png(), "image/png")}
    assert _post(author, "/queue", fields, png).status_code == 303
    queue.approve_post(web.database, "edited", approver="ben", now=START)
    form = author.get("/posts/edited/edit")
    assert "{embassy} first.</textarea>" in form.text
    assert 'name="alt_1_en" type="text" value="A card."' in form.text
    assert "kept unless you choose another file" in form.text
    saved = _post(
        approver, "/posts/edited/edit", {"text_en": "{embassy} second.", "alt_1_en": "A card."}
    )
    assert saved.status_code == 303, saved.text
    assert "Saved post edited (version 2): awaiting approval" in _flash(approver)
    definition = queue.queued_definition(web.database, "edited")
    assert definition["text"] == {"en": "{embassy} second."}
    assert definition["images"][0]["alt"] == {"en": "A card."}  # the image is kept
    detail = dashboard.post_detail(web.database, "edited")
    assert detail.version == 2 and not detail.approved
    assert {d.state for d in detail.deliveries} == {dashboard.DisplayState.AWAITING_APPROVAL}
    assert len(detail.deliveries[0].media) == 1
    assert ("ben", "queue edit", "edited") in _audit(web.database)


def test_an_edit_may_move_a_timed_post_to_the_next_free_slot(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    author = web_login("author")
    fields = {"text_en": "{embassy} moves.", "when": "at", "at": "2026-11-28T10:00", "id": "mv"}
    assert _post(author, "/queue", fields).status_code == 303
    assert 'value="2026-11-28T10:00"' in author.get("/posts/mv/edit").text
    saved = _post(author, "/posts/mv/edit", {**fields, "when": "next"})
    assert saved.status_code == 303, saved.text
    assert "next free slot" in _flash(author)
    assert not {"date", "time"} & queue.queued_definition(web.database, "mv").keys()


def test_an_edit_keeps_a_time_the_form_cannot_show(
    web: WebServer, web_login: Login, approval_campaign: str, tmp_path: Path
) -> None:
    definition = {"id": "instant", "text": {"en": "{embassy} at once."}, "at": "2026-11-28T10:00Z"}
    queue.queue_add(web.database, definition, actor="ines", folder=tmp_path, now=START)
    author = web_login("author")
    form = author.get("/posts/instant/edit")
    assert re.search(
        r'value="keep" checked> Keep the time it has: <code>at 2026-11-28T10:00', form.text
    )
    saved = _post(author, "/posts/instant/edit", {"text_en": "{embassy} at once!", "when": "keep"})
    assert saved.status_code == 303, saved.text
    stored = queue.queued_definition(web.database, "instant")
    assert (stored["at"], stored["text"]) == ("2026-11-28T10:00Z", {"en": "{embassy} at once!"})


def test_a_post_of_the_file_cannot_be_edited_here(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    author = web_login("author")
    for response in (
        author.get("/posts/launch/edit"),
        _post(author, "/posts/launch/edit", {"text_en": "{embassy} changed"}),
    ):
        assert response.status_code == 400
        assert "edit it there, then sync" in response.text


# --- refused input ----------------------------------------------------------------------------


def test_queue_and_check_need_the_csrf_token(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    author = web_login("author")
    for path in ("/queue", "/queue/check", "/posts/launch/edit"):
        refused = _post(author, path, {"text_en": "{embassy} forged"}, csrf=False)
        assert refused.status_code == 403
        forged = _post(author, path, {"text_en": "{embassy} forged", "csrf_token": "0" * 64})
        assert forged.status_code == 403
    assert queue.list_posts(web.database, CAMPAIGN) == []


def test_an_image_larger_than_any_platform_takes_is_refused(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    author = web_login("author")
    huge = _png() + b"\0" * MAX_UPLOAD
    fields = {"text_en": "{embassy} huge.", "alt_1_en": "Big."}
    refused = _post(author, "/queue", fields, {"image_1": ("huge.png", huge, "image/png")})
    assert refused.status_code == 400
    assert (
        "huge.png is larger than 16 MB, the most any platform takes" in _errors(refused)["image_1"]
    )
    assert queue.list_posts(web.database, CAMPAIGN) == []


def test_a_file_that_is_not_an_image_is_refused_at_its_field(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    author = web_login("author")
    fields = {"text_en": "{embassy} not a picture.", "alt_2_en": "Nothing."}
    fake = {"image_2": ("notes.png", b"just some text", "image/png")}
    refused = _post(author, "/queue", fields, fake)
    assert refused.status_code == 400
    assert "is not an image that can be read" in _errors(refused)["image_2"]
    assert "<details open><summary>More images" in refused.text  # the field is shown
    assert queue.list_posts(web.database, CAMPAIGN) == []


def test_hostile_text_is_escaped_in_the_form_shown_again(
    web: WebServer, web_login: Login, approval_campaign: str
) -> None:
    author = web_login("author")
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    fields = {"text_en": hostile, "alt_1_en": hostile, "id": hostile, "content_warning_en": hostile}
    refused = _post(author, "/queue", fields)
    assert refused.status_code == 400
    assert "<script>alert(1)" not in refused.text
    assert "<img src=x" not in refused.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.text
    live = _post(author, "/queue/check", fields)
    assert "<script>alert(1)" not in live.text and "<img src=x" not in live.text
    assert queue.list_posts(web.database, CAMPAIGN) == []


def test_the_users_names_are_on_the_audit_log(
    web: WebServer, web_login: Login, web_users: dict[Role, str], approval_campaign: str
) -> None:
    admin = web_login("admin")
    assert _post(admin, "/queue", {"text_en": "{embassy} by ada.", "id": "a1"}).status_code == 303
    saved = _post(admin, "/posts/a1/edit", {"text_en": "{embassy} by ada, again."})
    assert saved.status_code == 303
    actions = [entry for entry in _audit(web.database) if entry[2] == "a1"]
    assert actions == [("ada", "queue add", "a1"), ("ada", "queue edit", "a1")]
