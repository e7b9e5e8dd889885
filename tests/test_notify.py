"""The alerts digest (daemon.notify), sent through apprise to a fake endpoint on 127.0.0.1.

apprise posts synchronously: when send_digest returns, the fake has the request or never will,
so nothing here waits.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.alerts import FakeAlerts
from sqlalchemy import select

from scheduler.daemon.notify import (
    PendingAlert,
    build_digest,
    check_alert_urls,
    scheme,
    send_digest,
)
from scheduler.errors import ConfigurationError
from scheduler.settings import AlertSettings, Settings
from scheduler.store.alerts import AlertKind, raise_alert
from scheduler.store.database import Database
from scheduler.store.schema import Alert

NOW = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
TOKEN = "s3cret-t0ken-value"
K = AlertKind


@pytest.fixture
def endpoint() -> Iterator[FakeAlerts]:
    with FakeAlerts() as fake:
        yield fake


def _settings(*urls: str, secret: str | None = None, file: Path | None = None) -> Settings:
    return Settings(secrets_file=file, alerts=AlertSettings(urls=list(urls), urls_secret=secret))


def _raise(database: Database, *alerts: tuple[AlertKind, str]) -> None:
    with database.transaction() as session:
        for kind, message in alerts:
            raise_alert(session, NOW - dt.timedelta(minutes=5), kind, message, campaign_id="c")


def _sent_at(database: Database) -> list[dt.datetime | None]:
    with database.transaction() as session:
        return list(session.scalars(select(Alert.sent_at).order_by(Alert.id)))


LAUNCH_DAY = (
    (K.MISSED, "orange-2026/launch/be-tokyo/x/1 missed: 41 minutes late"),
    (K.FAILED, "orange-2026/launch/be-paris/bluesky/1 failed: content rejected"),
    (K.MISSED, "orange-2026/launch/be-tokyo/mastodon/1 missed: 41 minutes late"),
    (K.SUSPENDED, "be-newyork on x: account suspended: credentials invalid"),
    (K.MISSED, "orange-2026/launch/be-tokyo/bluesky/1 missed: 41 minutes late"),
)


def test_one_digest_is_posted_and_its_alerts_marked_sent(
    database: Database, endpoint: FakeAlerts
) -> None:
    _raise(database, *LAUNCH_DAY)
    sent = send_digest(database, _settings(endpoint.apprise_url()), NOW)
    assert sent == 5
    [message] = endpoint.messages
    assert message["title"] == "Campaign: 1 account suspended, 1 failed, 3 missed"
    assert message["type"] == "failure"
    assert message["message"].splitlines() == [
        "Accounts suspended (1)",
        "- be-newyork on x: account suspended: credentials invalid",
        "",
        "Failed (1)",
        "- orange-2026/launch/be-paris/bluesky/1 failed: content rejected",
        "",
        "Missed (3)",
        "- orange-2026/launch/be-tokyo/x/1 missed: 41 minutes late",
        "- orange-2026/launch/be-tokyo/mastodon/1 missed: 41 minutes late",
        "- orange-2026/launch/be-tokyo/bluesky/1 missed: 41 minutes late",
    ]
    assert _sent_at(database) == [NOW] * 5
    assert send_digest(database, _settings(endpoint.apprise_url()), NOW) == 0
    assert len(endpoint.messages) == 1, "nothing new: no second digest"


def test_an_endpoint_that_fails_leaves_the_alerts_for_the_next_digest(
    database: Database, endpoint: FakeAlerts, caplog: pytest.LogCaptureFixture
) -> None:
    _raise(database, *LAUNCH_DAY)
    url = endpoint.apprise_url(f"/hooks/{TOKEN}")
    endpoint.fail(500)
    with caplog.at_level(logging.DEBUG):
        assert send_digest(database, _settings(url), NOW) == 0
    assert len(endpoint.messages) == 1
    assert _sent_at(database) == [None] * 5
    warning = [r.getMessage() for r in caplog.records if r.name == "campaign.notify"]
    assert any("kept for the next digest" in text and "json://" in text for text in warning)
    assert TOKEN not in caplog.text

    assert send_digest(database, _settings(url), NOW) == 5
    assert len(endpoint.messages) == 2
    assert endpoint.messages[1]["message"] == endpoint.messages[0]["message"]


def test_urls_from_the_secrets_entry_are_used_and_never_logged(
    database: Database,
    endpoint: FakeAlerts,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets = tmp_path / "secrets.toml"
    first, second = endpoint.apprise_url(f"/a/{TOKEN}"), endpoint.apprise_url(f"/b/{TOKEN}")
    secrets.write_text(f'["alert-urls"]\nurls = """\n{first}\n# the team room\n{second}\n"""\n')
    os.chmod(secrets, 0o600)
    _raise(database, (K.PAUSED, "paused everything by ines: wrong card on launch day"))
    settings = _settings(endpoint.apprise_url("/plain"), secret="alert-urls", file=secrets)
    with caplog.at_level(logging.DEBUG):
        assert send_digest(database, settings, NOW) == 1
    assert sorted(r.path for r in endpoint.requests) == [f"/a/{TOKEN}", f"/b/{TOKEN}", "/plain"]
    assert {m["title"] for m in endpoint.messages} == {"Campaign: 1 pause"}
    assert {m["type"] for m in endpoint.messages} == {"info"}
    assert TOKEN not in caplog.text


def test_a_missing_secrets_entry_sends_nothing_and_says_which(
    database: Database, endpoint: FakeAlerts, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _raise(database, (K.FAILED, "a delivery failed"))
    settings = _settings(endpoint.apprise_url(), secret="alert-urls", file=tmp_path / "none.toml")
    assert send_digest(database, settings, NOW) == 0
    assert endpoint.messages == []
    assert _sent_at(database) == [None]
    assert "'alert-urls'" in caplog.text


def test_without_urls_nothing_is_sent_nor_marked(database: Database) -> None:
    _raise(database, (K.FAILED, "a delivery failed"))
    assert send_digest(database, Settings(), NOW) == 0
    assert _sent_at(database) == [None]


def test_an_unusable_url_is_named_by_scheme_and_position(endpoint: FakeAlerts) -> None:
    good = _settings(endpoint.apprise_url(), "mailto://user:pw@example.org")
    assert check_alert_urls(good) == 2
    bad = _settings(endpoint.apprise_url(), f"nosuchscheme://{TOKEN}@example.org")
    with pytest.raises(ConfigurationError, match=r"URL #2 \(nosuchscheme://\)") as raised:
        check_alert_urls(bad)
    assert TOKEN not in str(raised.value)


def test_scheme_is_all_that_shows_of_a_url() -> None:
    assert scheme(f"slack://{TOKEN}/B0/C0") == "slack://"
    assert scheme("MAILTOS://user:pw@host") == "mailtos://"
    assert scheme(TOKEN) == "?://"


def _pending(*alerts: tuple[str, str]) -> list[PendingAlert]:
    return [PendingAlert(number, kind, text) for number, (kind, text) in enumerate(alerts, 1)]


def test_digest_groups_by_kind_most_urgent_first() -> None:
    digest = build_digest(
        _pending(
            ("retracted", "launch retracted on 7 accounts"),
            ("something-new", "a kind this version does not know"),
            ("missed", "m1"),
            ("needs_review", "n1"),
            ("missed", "m2"),
            ("resumed", "resumed everything"),
        )
    )
    assert digest.title == (
        "Campaign: 1 needs review, 2 missed, 1 resume, 1 retraction, 1 something-new"
    )
    headings = [line for line in digest.body.splitlines() if line and not line.startswith("-")]
    assert headings == [
        "Needs review (1)",
        "Missed (2)",
        "Resumed (1)",
        "Retracted (1)",
        "something-new (1)",
    ]
    assert digest.alert_ids == (1, 2, 3, 4, 5, 6)


def test_a_long_digest_is_cut_with_a_count_of_the_rest() -> None:
    alerts = _pending(
        *[("missed", f"orange-2026/day{n:02}/be-tokyo/x/1 missed") for n in range(80)]
    )
    digest = build_digest(alerts, max_body=500)
    lines = digest.body.splitlines()
    assert len(digest.body) <= 500
    assert lines[0] == "Missed (80)"
    shown = [line for line in lines if line.startswith("- ")]
    assert lines[-1] == f"... and {80 - len(shown)} more"
    assert digest.title == "Campaign: 80 missed"
    assert len(digest.alert_ids) == 80, "the cut ones are counted in the title and marked too"


def test_one_alert_is_one_line_however_long() -> None:
    [line] = build_digest(_pending(("failed", "rejected:\n" + "x" * 1000))).body.splitlines()[1:]
    assert line.startswith("- rejected: xxx")
    assert len(line) <= 302
