"""The kill switch in the browser (``/pauses``), over real HTTP on SQLite and PostgreSQL: who may
pause and resume, what a pause holds (the daemon's own claim), what the CLI's status then says,
the audit log, and the form's mistakes."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from web_fixtures import USER_NAMES, Login, WebClient, WebServer

from scheduler.cli import main
from scheduler.service import control
from scheduler.service.control import Scope
from scheduler.service.users import Role
from scheduler.store.claims import begin_attempt, claim_next
from scheduler.store.database import Database
from scheduler.store.pauses import suspend_account
from scheduler.store.schema import Account, AuditEntry, Pause

AFTER_WINDOW = dt.datetime(2026, 12, 11, tzinfo=dt.UTC)
"""When every delivery of the builders' campaign is due: what may be claimed, is."""
LEASE = dt.timedelta(minutes=2)
AUTHOR, APPROVER, ADMIN = (USER_NAMES[role] for role in Role)
BANNER = 'class="pause-banner" role="status"'
REASON = "ambassador's <b>statement</b>"


def _claimed(database: Database, worker: str = "w1") -> list[str]:
    """Every key the daemon's claim would take now (one per account, as it does)."""
    keys = []
    while True:
        with database.transaction() as session:
            claim = claim_next(
                session, worker=worker, now=AFTER_WINDOW, lease=LEASE, spacing=dt.timedelta(0)
            )
        if claim is None:
            return keys
        keys.append(claim.key)


def _audit(database: Database, action: str) -> list[tuple[str, str | None, dict[str, object]]]:
    with database.transaction() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return [(row.actor, row.subject, dict(row.details)) for row in rows]


def _pause_rows(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Pause)) or 0


def _status_json(database_url: str) -> dict[str, object]:
    """What `campaign status --json` says, run as the CLI tests run it, on the same store."""
    result = CliRunner().invoke(main, ["status", "--json", "--database", database_url])
    assert result.exit_code == 0, result.output
    loaded: dict[str, object] = json.loads(result.output)
    return loaded


def _flash(client: WebClient, response: httpx.Response) -> str:
    """The message the redirect left, as the page it leads to shows it."""
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    found = re.search(
        r'<div class="flash flash-success" role="status"><p><span class="flash-kind">Done:</span> '
        r"(.*?)</p>",
        page.text,
    )
    assert found, page.text
    return html.unescape(found[1])


def _pause(client: WebClient, **fields: str) -> httpx.Response:
    return client.post_form("/pauses", {"scope": "all", "reason": "a test", **fields})


# --- who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "author", "approver", "admin"])
def test_every_role_sees_the_kill_switch_and_may_pause(
    web: WebServer, web_login: Login, synced_campaign: str, role: str | None
) -> None:
    client = web.client() if role is None else web_login(role)
    page = client.get("/pauses")
    if role is None:
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=%2Fpauses"
        anonymous = client.post_form("/pauses", {"scope": "all", "reason": "x"}, csrf=False)
        assert anonymous.status_code == 403
        assert _pause_rows(web.database) == 0
        return
    assert page.status_code == 200
    assert '<button type="submit" class="btn btn-danger btn-large">Pause</button>' in page.text
    assert _pause(client).status_code == 303
    assert [p.author for p in control.active_pauses(web.database)] == [USER_NAMES[Role(role)]]


@pytest.mark.parametrize("role", [None, "author", "approver", "admin"])
def test_only_approvers_and_admins_resume(
    web: WebServer, web_login: Login, synced_campaign: str, role: str | None
) -> None:
    pause_id = control.pause(web.database, Scope(synced_campaign), reason="storm", actor="ben")
    client = web.client() if role is None else web_login(role)
    if role is not None:
        client.get("/pauses")
    response = client.post_form(
        "/pauses/resume", {"pause_id": str(pause_id)}, csrf=role is not None
    )
    if role in (None, "author"):
        assert response.status_code == 403
        if role == "author":
            assert "This needs the approver role (resume permission)" in response.text
        assert len(control.active_pauses(web.database)) == 1
    else:
        assert response.status_code == 303
        assert control.active_pauses(web.database) == []


def test_an_author_sees_who_can_resume_and_no_resume_button(
    web: WebServer, web_login: Login, synced_campaign: str
) -> None:
    control.pause(web.database, Scope(synced_campaign), reason="storm", actor="ben")
    page = web_login("author").get("/pauses")
    assert "Resuming takes an approver or an admin: ask" in page.text
    assert f"<strong>{APPROVER}</strong>" in page.text and f"<strong>{ADMIN}</strong>" in page.text
    assert 'name="pause_id"' not in page.text and "Resume everything" not in page.text
    approver_page = web_login("approver").get("/pauses")
    assert 'name="pause_id"' in approver_page.text and "Resume everything" in approver_page.text


# --- pausing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "scope", "label"),
    [
        ({"scope": "all"}, {"embassy": None, "platform": None}, "campaign orange-2026"),
        (
            {"scope": "embassy", "embassy": "be-paris"},
            {"embassy": "be-paris", "platform": None},
            "campaign orange-2026, embassy be-paris",
        ),
        (
            {"scope": "platform", "platform": "mastodon"},
            {"embassy": None, "platform": "mastodon"},
            "campaign orange-2026, platform mastodon",
        ),
    ],
    ids=["all", "embassy", "platform"],
)
def test_an_authors_pause_shows_everywhere_and_in_the_cli_status(
    web: WebServer,
    web_login: Login,
    synced_campaign: str,
    database_url: str,
    fields: dict[str, str],
    scope: dict[str, str | None],
    label: str,
) -> None:
    author = web_login("author")
    done = author.post_form("/pauses", {**fields, "reason": REASON})
    flash = _flash(author, done)
    assert flash.startswith(f"Paused {label} (pause ")
    assert "not sent yet" in flash and "held" in flash
    for path in ("/", "/pauses", "/no/such/page"):
        page = author.get(path)
        assert BANNER in page.text, path
        assert f"<strong>{label}</strong>: {html.escape(REASON)}" in page.text
        assert f"(by {AUTHOR}, since" in page.text
    [shown] = _status_json(database_url)["pauses"]  # type: ignore[misc]
    assert shown["author"] == AUTHOR
    assert shown["reason"] == REASON
    assert shown["scope"] == {"campaign": synced_campaign, "post": None, **scope}
    assert _audit(web.database, "pause") == [(AUTHOR, label, {"reason": REASON})]


def test_the_daemon_claims_nothing_paused_until_resumed(
    web: WebServer, web_login: Login, synced_campaign: str
) -> None:
    author, approver = web_login("author"), web_login("approver")
    _flash(author, _pause(author, scope="embassy", embassy="be-paris"))
    claimed = _claimed(web.database)
    assert claimed, "the other embassies' deliveries are claimed"
    assert not [key for key in claimed if "/be-paris/" in key]
    _flash(author, _pause(author))  # everything
    assert _claimed(web.database, worker="w2") == []
    everything = approver.post_form("/pauses/resume", {"all": "1"})
    assert _flash(approver, everything).startswith("Resumed: 2 pauses lifted, 0 accounts released")
    assert [key for key in _claimed(web.database, worker="w3") if "/be-paris/" in key]


def test_a_pause_says_what_it_holds_and_what_may_still_go_out(
    web: WebServer, web_login: Login, synced_campaign: str, database: Database
) -> None:
    with database.transaction() as session:
        claim = claim_next(
            session, worker="w1", now=AFTER_WINDOW, lease=LEASE, spacing=dt.timedelta(0)
        )
        assert claim is not None
        assert begin_attempt(session, claim, idempotency_key="k", now=AFTER_WINDOW) is not None
    author = web_login("author")
    flash = _flash(author, _pause(author))
    assert "1 delivery being sent right now may still go out" in flash
    held = control.kill_switch(database, synced_campaign).held
    [(unsent, sending)] = [(h.unsent, h.sending) for h in held.values()]
    assert sending == 1 and unsent > 0
    assert f"{unsent} deliveries not sent yet are held" in flash


def test_pausing_what_is_already_paused_says_so(
    web: WebServer, web_login: Login, synced_campaign: str
) -> None:
    author = web_login("author")
    _flash(author, _pause(author))
    again = _flash(author, _pause(author, scope="platform", platform="x"))
    assert "It was already stopped (pause " in again
    assert f"campaign {synced_campaign}, by {AUTHOR}): each pause must be resumed" in again
    assert len(control.active_pauses(web.database)) == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"scope": "all", "reason": "  "}, "reason", "Say why"),
        ({"scope": "embassy", "embassy": "be-tokio", "reason": "x"}, "embassy", "be-tokio"),
        ({"scope": "embassy", "reason": "x"}, "embassy", "Choose the embassy"),
        ({"scope": "platform", "platform": "myspace", "reason": "x"}, "platform", "myspace"),
        ({"scope": "campaign", "reason": "x"}, "scope", "Choose what to pause"),
        ({"scope": "all", "embassy": "be-paris", "reason": "x"}, "scope", "but Everything"),
        ({"scope": "all", "reason": "x" * 501}, "reason", "under 500 characters"),
    ],
    ids=[
        "no-reason",
        "unknown-embassy",
        "no-embassy",
        "unknown-platform",
        "bad-scope",
        "all-and-embassy",
        "long",
    ],
)
def test_a_mistake_comes_back_on_its_field_and_nothing_is_written(
    web: WebServer,
    web_login: Login,
    synced_campaign: str,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    author = web_login("author")
    response = author.post_form("/pauses", fields)
    assert response.status_code == 400
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', response.text)
    assert error and message in error[1], response.text
    # the field (the radio group's fieldset, for the scope) names its error for screen readers
    assert re.search(rf'aria-describedby="[^"]*{field}-error"', response.text)
    same_tag = rf'aria-invalid="true"[^>]*aria-describedby="[^"]*{field}-error'
    assert field == "scope" or re.search(same_tag, response.text)
    assert 'aria-invalid="true"' in response.text
    assert 'role="alert"' in response.text
    assert _pause_rows(web.database) == 0
    assert _audit(web.database, "pause") == []
    if fields.get("reason", "").strip() and field != "reason":
        assert f">{fields['reason']}</textarea>" in response.text  # kept for a second try


# --- resuming -----------------------------------------------------------------------------------


def test_an_approver_resumes_one_pause_then_everything(
    web: WebServer, web_login: Login, synced_campaign: str, database: Database
) -> None:
    author, approver = web_login("author"), web_login("approver")
    _flash(author, _pause(author, scope="embassy", embassy="be-tokyo"))
    _flash(author, _pause(author, scope="platform", platform="bluesky"))
    tokyo, bluesky = control.active_pauses(database)
    one = approver.post_form("/pauses/resume", {"pause_id": str(tokyo.id)})
    assert _flash(approver, one).startswith("Resumed: 1 pause lifted, 0 accounts released.")
    assert [p.id for p in control.active_pauses(database)] == [bluesky.id]
    everything = approver.post_form("/pauses/resume", {"all": "1"})
    assert _flash(approver, everything).startswith("Resumed: 1 pause lifted")
    assert control.active_pauses(database) == []
    assert BANNER not in approver.get("/").text
    assert _audit(database, "resume") == [
        (APPROVER, f"pause {tokyo.id}", {"pauses": 1, "accounts": 0}),
        (APPROVER, f"everything in campaign {synced_campaign}", {"pauses": 1, "accounts": 0}),
    ]
    again = approver.post_form("/pauses/resume", {"pause_id": str(tokyo.id)})
    assert again.status_code == 400
    assert f"nothing to resume for pause {tokyo.id}" in again.text


def test_suspended_accounts_show_what_releases_them(
    web: WebServer, web_login: Login, synced_campaign: str, database: Database
) -> None:
    with database.transaction() as session:
        account = session.scalars(
            select(Account).where(Account.embassy_id == "be-paris", Account.platform == "mastodon")
        ).one()
        suspend_account(session, account, "token revoked by the instance", AFTER_WINDOW)
    author_page = web_login("author").get("/pauses")
    assert (
        "be-paris on mastodon</strong> <code>@be_paris@mastodon.example</code>: suspended"
        in author_page.text
    )
    assert "token revoked by the instance" in author_page.text
    assert "then an approver or an admin resumes it here" in author_page.text
    assert "Resume this account" not in author_page.text
    approver = web_login("approver")
    assert "Resume this account" in approver.get("/pauses").text
    released = approver.post_form("/pauses/resume", {"embassy": "be-paris", "platform": "mastodon"})
    assert _flash(approver, released).startswith("Resumed: 0 pauses lifted, 1 account released.")
    assert control.kill_switch(database).suspended == []


def test_resume_asks_what(web: WebServer, web_login: Login, synced_campaign: str) -> None:
    approver = web_login("approver")
    for fields in ({}, {"pause_id": "one"}):
        response = approver.post_form("/pauses/resume", fields)
        assert response.status_code == 400
        assert 'class="flash flash-error" role="alert"' in response.text
